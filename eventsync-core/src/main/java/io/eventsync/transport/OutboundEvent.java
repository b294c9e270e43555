package io.eventsync.transport;

import io.eventsync.v1.Envelope;
import java.util.Objects;

/**
 * One event on its way to a transport: the envelope (for transports that map attributes to headers,
 * such as the CloudEvents Kafka binding) and its encoded bytes (what every transport carries).
 */
public record OutboundEvent(Envelope envelope, byte[] bytes) {
    public OutboundEvent {
        Objects.requireNonNull(envelope, "envelope");
        Objects.requireNonNull(bytes, "bytes");
    }

    /** The key that orders and partitions: the partition key, or the subject when it is empty. */
    public String key() {
        String key = envelope.getPartitionKey();
        return key.isEmpty() ? envelope.getSubject() : key;
    }
}
