package io.eventsync.kafka.internal;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.UnknownFieldSet;
import io.eventsync.DecodeException;
import io.eventsync.v1.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The eventsync envelope in the CloudEvents Kafka protocol binding (binary content mode), and back.
 *
 * <p>Binary mode: the CloudEvents attributes {@code id, source, type, subject, time, specversion} and
 * the envelope's extensions {@code sequence, partitionkey, traceparent, tracestate, position, tombstone} are
 * {@code ce_} headers (UTF-8 strings, time in RFC 3339); the record value is the payload's protobuf bytes
 * ({@code Any.value}) with {@code content-type: application/protobuf}. Free-form envelope attributes
 * whose names are valid CloudEvents extension names become {@code ce_} headers too; others travel in
 * {@code eventsync-attr-<name>} headers so that nothing is lost. What CloudEvents has no place for
 * rides in {@code eventsync-} headers that CloudEvents readers ignore: the payload's type URL when it
 * is not the usual {@code type.googleapis.com/<type>}, and the envelope's unknown fields (written by a
 * newer eventsync), so that they survive the trip as the brief requires.
 *
 * <p>An event without payload is a record with a null value: on a compacted topic a tombstone then
 * also removes the key's earlier records.
 */
public final class CloudEventsBinding {
    public static final String ENVELOPE_CONTENT_TYPE = "application/vnd.eventsync.envelope+protobuf";
    public static final String PROTOBUF_CONTENT_TYPE = "application/protobuf";
    public static final String CONTENT_TYPE = "content-type";

    static final String CE = "ce_";
    static final String SPECVERSION = CE + "specversion";
    static final String ID = CE + "id";
    static final String SOURCE = CE + "source";
    static final String TYPE = CE + "type";
    static final String SUBJECT = CE + "subject";
    static final String TIME = CE + "time";
    static final String SEQUENCE = CE + "sequence";
    static final String PARTITION_KEY = CE + "partitionkey";
    static final String TRACEPARENT = CE + "traceparent";
    static final String TRACESTATE = CE + "tracestate";
    static final String POSITION = CE + "position";
    static final String TOMBSTONE = CE + "tombstone";
    static final String ATTRIBUTE = "eventsync-attr-";
    static final String TYPE_URL = "eventsync-type-url";
    static final String UNKNOWN_FIELDS = "eventsync-unknown-fields";
    static final String TYPE_URL_PREFIX = "type.googleapis.com/";
    static final String CLOUDEVENTS_VERSION = "1.0";
    /** The attributes CloudEvents 1.0 requires of every event. */
    private static final List<String> REQUIRED = List.of(SPECVERSION, ID, SOURCE, TYPE);

    /** CloudEvents extension names: lower-case letters and digits (the spec advises at most 20). */
    private static final Pattern EXTENSION_NAME = Pattern.compile("[a-z0-9]{1,20}");
    private static final Set<String> RESERVED = Set.of("specversion", "id", "source", "type", "subject", "time",
            "datacontenttype", "dataschema", "data", "data_base64", "sequence", "partitionkey", "traceparent",
            "tracestate", "position", "tombstone");

    private CloudEventsBinding() {
    }

    /** Binary mode headers for {@code envelope}; the record value is {@link #binaryValue}. */
    public static Headers binaryHeaders(Envelope envelope) {
        RecordHeaders headers = new RecordHeaders();
        put(headers, SPECVERSION, envelope.getSpecversion().isEmpty() ? CLOUDEVENTS_VERSION : envelope.getSpecversion());
        put(headers, ID, envelope.getId());
        put(headers, SOURCE, envelope.getSource());
        put(headers, TYPE, envelope.getType());
        putIfNotEmpty(headers, SUBJECT, envelope.getSubject());
        if (envelope.hasTime()) {
            put(headers, TIME, DateTimeFormatter.ISO_INSTANT.format(toInstant(envelope.getTime())));
        }
        if (envelope.getSequence() != 0) {
            put(headers, SEQUENCE, Long.toString(envelope.getSequence()));
        }
        putIfNotEmpty(headers, PARTITION_KEY, envelope.getPartitionKey());
        putIfNotEmpty(headers, TRACEPARENT, envelope.getTraceparent());
        putIfNotEmpty(headers, TRACESTATE, envelope.getTracestate());
        if (envelope.getPosition() != 0) {
            put(headers, POSITION, Long.toString(envelope.getPosition()));
        }
        if (envelope.getTombstone()) {
            put(headers, TOMBSTONE, "true");
        }
        for (Map.Entry<String, String> attribute : envelope.getAttributesMap().entrySet()) {
            String name = attribute.getKey();
            boolean extension = EXTENSION_NAME.matcher(name).matches() && !RESERVED.contains(name);
            put(headers, (extension ? CE : ATTRIBUTE) + name, attribute.getValue());
        }
        if (envelope.hasPayload()) {
            put(headers, CONTENT_TYPE, PROTOBUF_CONTENT_TYPE);
            String typeUrl = envelope.getPayload().getTypeUrl();
            if (!typeUrl.equals(TYPE_URL_PREFIX + envelope.getType())) {
                put(headers, TYPE_URL, typeUrl);
            }
        }
        if (!envelope.getUnknownFields().asMap().isEmpty()) {
            headers.add(UNKNOWN_FIELDS, envelope.getUnknownFields().toByteArray());
        }
        return headers;
    }

    /** The binary mode record value: the payload's protobuf bytes, or null when there is no payload. */
    public static byte[] binaryValue(Envelope envelope) {
        return envelope.hasPayload() ? envelope.getPayload().getValue().toByteArray() : null;
    }

    /** Structured mode: only the content type; the value is the encoded envelope. */
    public static Headers structuredHeaders() {
        RecordHeaders headers = new RecordHeaders();
        put(headers, CONTENT_TYPE, ENVELOPE_CONTENT_TYPE);
        return headers;
    }

    /**
     * The encoded envelope a record carries, whichever mode wrote it.
     *
     * @throws DecodeException when the record is not a well-formed eventsync event: neither an eventsync
     *                         structured record nor a CloudEvent in binary mode, a null or empty value
     *                         where an event must have one, or missing, repeated or malformed headers. The
     *                         message names every problem found, each with its header and the bad value,
     *                         quoted and escaped; it becomes the dead letter's reason.
     */
    public static byte[] envelopeBytes(Headers headers, byte[] value) throws DecodeException {
        Header contentTypeHeader = headers.lastHeader(CONTENT_TYPE);
        String contentType = contentTypeHeader == null || contentTypeHeader.value() == null ? null
                : new String(contentTypeHeader.value(), StandardCharsets.UTF_8);
        if (ENVELOPE_CONTENT_TYPE.equals(contentType)) {
            if (value == null || value.length == 0) {
                throw new DecodeException("the record value is " + (value == null ? "null" : "empty") + ", but its"
                        + " content-type " + ENVELOPE_CONTENT_TYPE + " says it holds an encoded eventsync envelope");
            }
            return value;
        }
        if (headers.lastHeader(SPECVERSION) == null && !hasCloudEventsHeader(headers)) {
            throw new DecodeException("the record is not an eventsync event: it has neither content-type "
                    + ENVELOPE_CONTENT_TYPE + " (structured mode) nor ce_ headers (CloudEvents binary mode); its"
                    + " content-type is " + (contentTypeHeader == null ? "missing" : RecordText.quote(contentTypeHeader.value()))
                    + " and its value " + (value == null ? "is null" : "has " + value.length + " bytes"));
        }
        return fromBinary(headers, value).toByteArray();
    }

    /**
     * The envelope of a binary mode record. Everything that keeps the record from mapping faithfully onto
     * an envelope is refused here, each problem named: headers that are repeated, not UTF-8 or do not
     * parse, CloudEvents' required attributes ({@code specversion 1.0, id, source, type}), and the value.
     * Rules of the envelope's values (a UUID id, {@code sequence >= 1}, a subject) are the validator's.
     */
    static Envelope fromBinary(Headers headers, byte[] value) throws DecodeException {
        List<String> problems = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        Envelope.Builder envelope = Envelope.newBuilder();
        for (Header header : headers) {
            String name = header.key();
            if (!name.startsWith(CE) && !name.startsWith(ATTRIBUTE) && !name.equals(TYPE_URL)) {
                continue; // content-type and unknown fields are read below; other headers are not ours
            }
            if (seen.merge(name, 1, Integer::sum) == 2) {
                problems.add("header " + name + " appears more than once");
            }
            String text = header.value() == null ? "" : RecordText.utf8OrNull(header.value());
            if (text == null) {
                problems.add("header " + name + " is not valid UTF-8: " + RecordText.quote(header.value()));
                continue;
            }
            try {
                apply(envelope, name, text);
            } catch (DecodeException e) {
                problems.add(e.getMessage());
            }
        }
        checkRequired(headers, envelope, problems);
        checkValue(headers, value, problems);
        Header unknown = headers.lastHeader(UNKNOWN_FIELDS);
        if (unknown != null && unknown.value() != null) {
            try {
                envelope.setUnknownFields(UnknownFieldSet.parseFrom(unknown.value()));
            } catch (InvalidProtocolBufferException e) {
                problems.add("header " + UNKNOWN_FIELDS + " is not a protobuf field set: " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw new DecodeException(String.join("; ", problems));
        }
        if (value != null) {
            String typeUrl = text(headers, TYPE_URL);
            envelope.setPayload(Any.newBuilder()
                    .setTypeUrl(typeUrl != null ? typeUrl : TYPE_URL_PREFIX + envelope.getType())
                    .setValue(ByteString.copyFrom(value)));
        }
        return envelope.build();
    }

    private static void apply(Envelope.Builder envelope, String name, String text) throws DecodeException {
        switch (name) {
            case SPECVERSION -> envelope.setSpecversion(text);
            case ID -> envelope.setId(text);
            case SOURCE -> envelope.setSource(text);
            case TYPE -> envelope.setType(text);
            case SUBJECT -> envelope.setSubject(text);
            case TIME -> envelope.setTime(parseTime(text));
            case SEQUENCE -> envelope.setSequence(parseLong(SEQUENCE, text));
            case PARTITION_KEY -> envelope.setPartitionKey(text);
            case TRACEPARENT -> envelope.setTraceparent(text);
            case TRACESTATE -> envelope.setTracestate(text);
            case POSITION -> envelope.setPosition(parseLong(POSITION, text));
            case TOMBSTONE -> envelope.setTombstone(parseBoolean(TOMBSTONE, text));
            case TYPE_URL -> {
                // read with the value
            }
            default -> envelope.putAttributes(name.substring(name.startsWith(CE) ? CE.length() : ATTRIBUTE.length()), text);
        }
    }

    private static void checkRequired(Headers headers, Envelope.Builder envelope, List<String> problems) {
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            Header header = headers.lastHeader(name);
            if (header == null) {
                missing.add(name);
            } else if (header.value() == null || header.value().length == 0) {
                problems.add("header " + name + " is empty");
            }
        }
        if (!missing.isEmpty()) {
            problems.add(0, "missing required header" + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing));
        }
        String specversion = envelope.getSpecversion();
        if (!specversion.isEmpty() && !CLOUDEVENTS_VERSION.equals(specversion) && headers.lastHeader(SPECVERSION) != null) {
            problems.add("header " + SPECVERSION + " is " + RecordText.quote(specversion) + ", but eventsync reads"
                    + " CloudEvents " + CLOUDEVENTS_VERSION + " only");
        }
    }

    /** Binary mode: the value is the payload, which every eventsync event has (its encoding may be empty). */
    private static void checkValue(Headers headers, byte[] value, List<String> problems) {
        Header contentType = headers.lastHeader(CONTENT_TYPE);
        String type = contentType == null || contentType.value() == null ? null : RecordText.utf8OrNull(contentType.value());
        boolean protobuf = type != null && isProtobuf(type);
        if (contentType != null && !protobuf) {
            problems.add("header " + CONTENT_TYPE + " is " + RecordText.quote(contentType.value()) + ", but the value of"
                    + " a binary mode record must be a protobuf payload (" + PROTOBUF_CONTENT_TYPE + ")");
        }
        if (value == null) {
            problems.add("the record value is null: in binary mode it is the event's payload, which every"
                    + " eventsync event has");
        } else if (value.length == 0 && !protobuf) {
            problems.add("the record value is empty and has no content-type " + PROTOBUF_CONTENT_TYPE
                    + " saying it is a payload whose fields are all default");
        }
    }

    private static boolean isProtobuf(String contentType) {
        int parameters = contentType.indexOf(';');
        String media = (parameters < 0 ? contentType : contentType.substring(0, parameters)).trim();
        return media.equalsIgnoreCase(PROTOBUF_CONTENT_TYPE) || media.equalsIgnoreCase("application/x-protobuf");
    }

    private static boolean hasCloudEventsHeader(Headers headers) {
        for (Header header : headers) {
            if (header.key().startsWith(CE)) {
                return true;
            }
        }
        return false;
    }

    private static Timestamp parseTime(String text) throws DecodeException {
        try {
            Instant instant = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from);
            return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
        } catch (DateTimeParseException e) {
            throw new DecodeException("header " + TIME + " is not an RFC 3339 timestamp: " + RecordText.quote(text));
        }
    }

    private static long parseLong(String header, String text) throws DecodeException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new DecodeException("header " + header + " is not an integer: " + RecordText.quote(text));
        }
    }

    private static boolean parseBoolean(String header, String text) throws DecodeException {
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new DecodeException("header " + header + " is not true or false: " + RecordText.quote(text));
        };
    }

    private static Instant toInstant(Timestamp time) {
        return Instant.ofEpochSecond(time.getSeconds(), time.getNanos());
    }

    private static String text(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void putIfNotEmpty(Headers headers, String name, String value) {
        if (!value.isEmpty()) {
            put(headers, name, value);
        }
    }

    private static void put(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
