package io.eventsync.nats;

import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;
import java.util.UUID;

final class TestEvents {
    private TestEvents() {
    }

    static OutboundEvent event(String key, long sequence) {
        return event(UUID.randomUUID().toString(), key, sequence);
    }

    static OutboundEvent event(String id, String key, long sequence) {
        Envelope envelope = Envelope.newBuilder()
                .setId(id)
                .setSource("test")
                .setType("test.Event")
                .setSubject(key)
                .setSequence(sequence)
                .setSpecversion("1.0")
                .build();
        return new OutboundEvent(envelope, envelope.toByteArray());
    }

    static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }
}
