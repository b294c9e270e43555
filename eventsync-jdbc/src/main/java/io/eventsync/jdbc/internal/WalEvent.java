package io.eventsync.jdbc.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;

/** An event read from the WAL, stamped with its position, ready for the transport. */
public final class WalEvent {
    private WalEvent() {}

    /**
     * Stamps {@code position} as the envelope's {@code position} field (appended to the stored bytes,
     * which otherwise travel unchanged, unknown fields included). Bytes that are not an envelope go out
     * exactly as written, under {@code subject} (empty when unknown), for the consumer to dead-letter
     * with the writer's bytes: the relay never holds the stream back for bad input.
     */
    public static OutboundEvent of(long position, String subject, byte[] stored) {
        Envelope envelope;
        try {
            envelope = Envelope.parseFrom(stored);
        } catch (InvalidProtocolBufferException e) {
            return new OutboundEvent(Envelope.newBuilder().setSubject(subject == null ? "" : subject)
                    .setPosition(position).build(), stored);
        }
        return new OutboundEvent(envelope.toBuilder().setPosition(position).build(),
                OutboxBatch.appendVarintField(stored, 13, position));
    }
}
