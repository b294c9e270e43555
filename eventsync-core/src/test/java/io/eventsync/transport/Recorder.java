package io.eventsync.transport;

import com.google.protobuf.InvalidProtocolBufferException;
import io.eventsync.v1.Envelope;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link DeliveryHandler} for transport tests that records every delivery and its decoded envelope, and
 * acknowledges at once unless told not to. Shared by the transport modules through the core test-jar.
 */
public final class Recorder implements DeliveryHandler {
    private final List<Envelope> events = new CopyOnWriteArrayList<>();
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final boolean ack;

    private Recorder(boolean ack) {
        this.ack = ack;
    }

    public static Recorder acking() {
        return new Recorder(true);
    }

    /** A consumer that crashes before acknowledging anything. */
    public static Recorder neverAcking() {
        return new Recorder(false);
    }

    @Override
    public void onDelivery(Delivery delivery) {
        Envelope envelope;
        try {
            envelope = Envelope.parseFrom(delivery.bytes());
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("undecodable delivery at " + delivery.offset(), e);
        }
        deliveries.add(delivery); // before the event, so a test that saw the event also sees its delivery
        events.add(envelope);
        if (ack) {
            delivery.ack();
        }
    }

    /** The decoded envelopes in arrival order, redeliveries included (a live view). */
    public List<Envelope> events() {
        return events;
    }

    /** The deliveries in arrival order, redeliveries included (a live view). */
    public List<Delivery> deliveries() {
        return deliveries;
    }

    /** The ids of the events in arrival order, redeliveries included. */
    public List<String> ids() {
        return events.stream().map(Envelope::getId).toList();
    }

    /** Per key, the sequences in the order their events were first received (redeliveries ignored). */
    public Map<String, List<Long>> firstSeenSequencesByKey() {
        return TestEvents.firstSeenSequencesByKey(events);
    }
}
