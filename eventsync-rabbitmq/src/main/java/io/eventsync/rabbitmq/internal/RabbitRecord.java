package io.eventsync.rabbitmq.internal;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.LongString;
import io.eventsync.transport.internal.RecordText;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What a consumed AMQP message says about itself besides its body: the key the publisher put in the
 * {@value RabbitPublisher#KEY_HEADER} header, what (if anything) is malformed in its properties, and
 * where it came from. Anyone may publish to a topic's exchange, so nothing here trusts the message:
 * a property eventsync cannot honour is a defect named with its value, and only a well-formed key
 * header yields a {@link #transportKey()}.
 */
final class RabbitRecord {
    /** Content types an eventsync message may declare; a message may also declare none. */
    private static final Set<String> CONTENT_TYPES = Set.of("application/protobuf", "application/x-protobuf",
            "application/octet-stream");
    private static final int MAX_HEADERS_SHOWN = 20;

    private final String transportKey;
    private final String defect;
    private final String origin;

    RabbitRecord(String queue, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
        Map<String, Object> headers = properties == null ? null : properties.getHeaders();
        Object key = headers == null ? null : headers.get(RabbitPublisher.KEY_HEADER);
        String keyText = key == null ? null : text(key);
        this.transportKey = keyText == null ? "" : keyText;
        this.defect = defect(key, keyText, properties, body);
        // AMQP gives a queued message no identity of its own: the delivery tag names this delivery, so a
        // redelivered undecodable message is a second letter rather than being merged with another
        // message into one (a message-id, when present, is the writer's claim, not the broker's).
        String where = "rabbitmq queue " + queue + " delivery tag " + envelope.getDeliveryTag()
                + (envelope.isRedeliver() ? " (redelivered)" : "") + " (exchange " + envelope.getExchange()
                + ", routing key " + envelope.getRoutingKey() + ")";
        this.origin = defect == null ? where : RecordText.bounded(where + "; properties " + describe(properties));
    }

    /** The key header's value when it is a non-empty UTF-8 string; else empty. */
    String transportKey() {
        return transportKey;
    }

    /** Null, or what is wrong with the message's properties or body. */
    String defect() {
        return defect;
    }

    String origin() {
        return origin;
    }

    private static String defect(Object key, String keyText, AMQP.BasicProperties properties, byte[] body) {
        if (key != null && keyText == null) {
            return "header " + RabbitPublisher.KEY_HEADER + " is not a UTF-8 string: " + value(key);
        }
        if (keyText != null && keyText.isEmpty()) {
            return "header " + RabbitPublisher.KEY_HEADER + " is empty";
        }
        String contentType = properties == null ? null : properties.getContentType();
        if (contentType != null && !CONTENT_TYPES.contains(mediaType(contentType))) {
            return "property content-type is " + RecordText.quoted(contentType)
                    + ", not application/protobuf: the body is not an eventsync envelope";
        }
        String encoding = properties == null ? null : properties.getContentEncoding();
        if (encoding != null && !encoding.isEmpty() && !encoding.equalsIgnoreCase("identity")) {
            return "property content-encoding is " + RecordText.quoted(encoding)
                    + ": eventsync reads unencoded envelopes only";
        }
        if (body == null || body.length == 0) {
            return "the message body is empty";
        }
        return null;
    }

    /** A header value as text when it is a string (the client reads AMQP longstr as LongString); else null. */
    private static String text(Object value) {
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof LongString l) {
            return RecordText.utf8OrNull(l.getBytes());
        }
        return null;
    }

    private static String value(Object value) {
        if (value instanceof LongString l) {
            return RecordText.quoted(l.getBytes());
        }
        if (value instanceof byte[] b) {
            return "bytes " + RecordText.hex(b);
        }
        if (value instanceof String s) {
            return RecordText.quoted(s);
        }
        return value.getClass().getSimpleName() + " " + RecordText.quoted(String.valueOf(value));
    }

    private static String mediaType(String contentType) {
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    private static String describe(AMQP.BasicProperties p) {
        if (p == null) {
            return "none";
        }
        StringBuilder out = new StringBuilder();
        append(out, "content-type", p.getContentType());
        append(out, "content-encoding", p.getContentEncoding());
        append(out, "type", p.getType());
        append(out, "message-id", p.getMessageId());
        append(out, "app-id", p.getAppId());
        if (p.getHeaders() != null) {
            int shown = 0;
            for (Map.Entry<String, Object> h : p.getHeaders().entrySet()) {
                if (shown++ == MAX_HEADERS_SHOWN) {
                    out.append(", ...(").append(p.getHeaders().size()).append(" headers)");
                    break;
                }
                out.append(out.length() == 0 ? "" : ", ").append("header ").append(RecordText.quoted(h.getKey()))
                        .append('=').append(h.getValue() == null ? "null" : value(h.getValue()));
            }
        }
        return out.length() == 0 ? "none" : out.toString();
    }

    private static void append(StringBuilder out, String name, String value) {
        if (value != null) {
            out.append(out.length() == 0 ? "" : ", ").append(name).append('=').append(RecordText.quoted(value));
        }
    }
}
