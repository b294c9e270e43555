package io.eventsync.kafka;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** Envelopes and a recording handler for the Kafka tests. */
final class TestEvents {
    private TestEvents() {
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Envelope envelope(String subject, long sequence, String text) {
        return Envelope.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setSource("orders-service")
                .setType("google.protobuf.StringValue")
                .setSubject(subject)
                .setTime(Timestamp.newBuilder().setSeconds(1_764_000_000L + sequence).setNanos(123_000_000))
                .setSpecversion("1.0")
                .setSequence(sequence)
                .setTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .setPayload(Any.pack(StringValue.of(text)))
                .putAttributes("tenant", "acme")
                .putAttributes("Not-A-CE-Name", "kept")
                .setPosition(sequence * 10)
                .build();
    }

    static OutboundEvent outbound(Envelope envelope) {
        return new OutboundEvent(envelope, envelope.toByteArray());
    }

    /**
     * Waits for every send to complete, longer than the producer's own delivery timeout (120 s), so a
     * send that cannot complete fails with the producer's reason instead of a bare timeout here; on
     * failure the message says how many sends completed, failed and were still pending.
     */
    static void awaitSent(List<? extends CompletableFuture<?>> sends) throws Exception {
        try {
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(180, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            long done = sends.stream().filter(f -> f.isDone() && !f.isCompletedExceptionally()).count();
            List<Throwable> failures = new java.util.ArrayList<>();
            sends.stream().filter(CompletableFuture::isCompletedExceptionally).forEach(f -> f.exceptionally(t -> {
                failures.add(t);
                return null;
            }));
            throw new AssertionError(done + " of " + sends.size() + " Kafka sends completed, " + failures.size()
                    + " failed, " + (sends.size() - done - failures.size()) + " pending"
                    + (failures.isEmpty() ? "" : "; first failure: " + failures.get(0)), e);
        }
    }

    static Envelope decode(Delivery delivery) {
        try {
            return Envelope.parseFrom(delivery.bytes());
        } catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Records every delivery; acknowledges at once unless told not to. */
    static final class Recorder implements DeliveryHandler {
        final List<Delivery> deliveries = new CopyOnWriteArrayList<>();
        private final boolean ack;

        Recorder(boolean ack) {
            this.ack = ack;
        }

        static Recorder acking() {
            return new Recorder(true);
        }

        static Recorder notAcking() {
            return new Recorder(false);
        }

        @Override
        public void onDelivery(Delivery delivery) {
            deliveries.add(delivery);
            if (ack) {
                delivery.ack();
            }
        }

        List<Envelope> envelopes() {
            return deliveries.stream().map(TestEvents::decode).toList();
        }

        List<String> ids() {
            return envelopes().stream().map(Envelope::getId).toList();
        }
    }
}
