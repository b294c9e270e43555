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
 * the envelope's extensions {@code sequence, partitionkey, traceparent, position, tombstone} are
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
    static final String POSITION = CE + "position";
    static final String TOMBSTONE = CE + "tombstone";
    static final String ATTRIBUTE = "eventsync-attr-";
    static final String TYPE_URL = "eventsync-type-url";
    static final String UNKNOWN_FIELDS = "eventsync-unknown-fields";
    static final String TYPE_URL_PREFIX = "type.googleapis.com/";

    /** CloudEvents extension names: lower-case letters and digits (the spec advises at most 20). */
    private static final Pattern EXTENSION_NAME = Pattern.compile("[a-z0-9]{1,20}");
    private static final Set<String> RESERVED = Set.of("specversion", "id", "source", "type", "subject", "time",
            "datacontenttype", "dataschema", "data", "data_base64", "sequence", "partitionkey", "traceparent",
            "position", "tombstone");

    private CloudEventsBinding() {
    }

    /** Binary mode headers for {@code envelope}; the record value is {@link #binaryValue}. */
    public static Headers binaryHeaders(Envelope envelope) {
        RecordHeaders headers = new RecordHeaders();
        put(headers, SPECVERSION, envelope.getSpecversion().isEmpty() ? "1.0" : envelope.getSpecversion());
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
     * @throws DecodeException when the record is neither an eventsync structured record nor a CloudEvent
     *                         in binary mode, or a header is malformed
     */
    public static byte[] envelopeBytes(Headers headers, byte[] value) throws DecodeException {
        String contentType = text(headers, CONTENT_TYPE);
        if (ENVELOPE_CONTENT_TYPE.equals(contentType)) {
            if (value == null) {
                throw new DecodeException("record has content-type " + ENVELOPE_CONTENT_TYPE + " but no value");
            }
            return value;
        }
        if (headers.lastHeader(SPECVERSION) == null) {
            throw new DecodeException("record is neither an eventsync envelope (content-type "
                    + ENVELOPE_CONTENT_TYPE + ") nor a CloudEvent in binary mode (no " + SPECVERSION + " header)");
        }
        return fromBinary(headers, value).toByteArray();
    }

    static Envelope fromBinary(Headers headers, byte[] value) throws DecodeException {
        Envelope.Builder envelope = Envelope.newBuilder();
        for (Header header : headers) {
            String name = header.key();
            String text = header.value() == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
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
                case POSITION -> envelope.setPosition(parseLong(POSITION, text));
                case TOMBSTONE -> envelope.setTombstone(Boolean.parseBoolean(text));
                case UNKNOWN_FIELDS, TYPE_URL, CONTENT_TYPE -> {
                    // read below
                }
                default -> {
                    if (name.startsWith(CE)) {
                        envelope.putAttributes(name.substring(CE.length()), text);
                    } else if (name.startsWith(ATTRIBUTE)) {
                        envelope.putAttributes(name.substring(ATTRIBUTE.length()), text);
                    }
                }
            }
        }
        if (value != null) {
            String typeUrl = text(headers, TYPE_URL);
            envelope.setPayload(Any.newBuilder()
                    .setTypeUrl(typeUrl != null ? typeUrl : TYPE_URL_PREFIX + envelope.getType())
                    .setValue(ByteString.copyFrom(value)));
        }
        Header unknown = headers.lastHeader(UNKNOWN_FIELDS);
        if (unknown != null && unknown.value() != null) {
            try {
                envelope.setUnknownFields(UnknownFieldSet.parseFrom(unknown.value()));
            } catch (InvalidProtocolBufferException e) {
                throw new DecodeException("header " + UNKNOWN_FIELDS + " is not a protobuf field set: " + e.getMessage());
            }
        }
        return envelope.build();
    }

    private static Timestamp parseTime(String text) throws DecodeException {
        try {
            Instant instant = DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(text, Instant::from);
            return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
        } catch (DateTimeParseException e) {
            throw new DecodeException("header " + TIME + " is not an RFC 3339 time: " + text);
        }
    }

    private static long parseLong(String header, String text) throws DecodeException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new DecodeException("header " + header + " is not an integer: " + text);
        }
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
