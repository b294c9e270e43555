package io.eventsync.nats.internal;

import io.eventsync.transport.internal.RecordText;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import java.util.List;
import java.util.Map;

/**
 * What a JetStream message says about itself besides its data: the key the publisher put in the
 * {@value NatsPublisher#KEY_HEADER} header, what (if anything) is malformed, and where it came from.
 * Anyone may publish to a topic's subject, so nothing here trusts the message: only a single,
 * non-empty key header yields a {@link #transportKey()}. A message without the header is not
 * defective (a non-eventsync writer may omit it); it then has no transport key and parks nothing if
 * its data does not decode.
 */
final class NatsRecord {
    private static final int MAX_HEADERS_SHOWN = 20;

    private final String transportKey;
    private final String defect;
    private final String origin;

    NatsRecord(String stream, Message message) {
        Headers headers = message.getHeaders();
        List<String> keys = headers == null ? null : headers.getIgnoreCase(NatsPublisher.KEY_HEADER);
        this.defect = defect(keys, message.getData());
        // A well-formed key header is the publisher's, whatever is wrong with the data.
        this.transportKey = keys != null && keys.size() == 1 ? keys.get(0) : "";
        // The stream sequence names the record whichever delivery this is: the dead-letter store matches
        // a redelivered undecodable record to its letter by origin.
        String where = "nats stream " + stream + " sequence " + message.metaData().streamSequence()
                + " (subject " + message.getSubject() + ")";
        this.origin = defect == null ? where : RecordText.bounded(where + "; headers " + describe(headers));
    }

    String transportKey() {
        return transportKey;
    }

    /** Null, or what is wrong with the message's headers or data. */
    String defect() {
        return defect;
    }

    String origin() {
        return origin;
    }

    private static String defect(List<String> keys, byte[] data) {
        if (keys != null && keys.size() > 1) {
            StringBuilder values = new StringBuilder();
            for (String value : keys) {
                values.append(values.length() == 0 ? "" : ", ").append(RecordText.quoted(value));
            }
            return "header " + NatsPublisher.KEY_HEADER + " has " + keys.size() + " values, not one: " + values;
        }
        if (keys != null && keys.size() == 1 && keys.get(0).isEmpty()) {
            return "header " + NatsPublisher.KEY_HEADER + " is empty";
        }
        if (data == null || data.length == 0) {
            return "the message data is empty";
        }
        return null;
    }

    private static String describe(Headers headers) {
        if (headers == null || headers.isEmpty()) {
            return "none";
        }
        StringBuilder out = new StringBuilder();
        int shown = 0;
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            if (shown++ == MAX_HEADERS_SHOWN) {
                out.append(", ...(").append(headers.size()).append(" headers)");
                break;
            }
            for (String value : h.getValue()) {
                out.append(out.length() == 0 ? "" : ", ").append(RecordText.quoted(h.getKey())).append('=')
                        .append(RecordText.quoted(value));
            }
        }
        return out.toString();
    }
}
