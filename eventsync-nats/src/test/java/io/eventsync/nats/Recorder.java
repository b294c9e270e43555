package io.eventsync.nats;

import com.google.protobuf.InvalidProtocolBufferException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.v1.Envelope;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every delivery it gets as the decoded envelope; acks at once unless told not to. */
final class Recorder implements DeliveryHandler {
    final List<Envelope> events = new CopyOnWriteArrayList<>();
    final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
    private final boolean ack;

    Recorder(boolean ack) {
        this.ack = ack;
    }

    static Recorder acking() {
        return new Recorder(true);
    }

    static Recorder neverAcking() {
        return new Recorder(false);
    }

    @Override
    public void onDelivery(Delivery delivery) {
        try {
            events.add(Envelope.parseFrom(delivery.bytes()));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError("undecodable delivery at " + delivery.offset(), e);
        }
        deliveries.add(delivery);
        if (ack) {
            delivery.ack();
        }
    }

    List<String> ids() {
        return events.stream().map(Envelope::getId).toList();
    }
}
