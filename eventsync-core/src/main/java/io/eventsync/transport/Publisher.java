package io.eventsync.transport;

import java.util.concurrent.CompletableFuture;

/**
 * Sends events to one topic. Sends are pipelined: {@link #send} returns at once and its future
 * completes when the transport has durably accepted the event (broker ack, publisher confirm, log
 * commit), or completes exceptionally with the reason. Events sent in order with the same key are
 * stored in that order. Thread-safe.
 */
public interface Publisher extends AutoCloseable {

    CompletableFuture<Void> send(OutboundEvent event);

    /**
     * Sends one copy of {@code event} into every partition of the topic (a relay's heartbeat, which
     * must be seen in order on each partition, or freshness would measure one of them only); completes
     * when every copy was accepted. A transport whose topic is one ordered sequence needs nothing more
     * than {@link #send}, which is the default.
     */
    default CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
        return send(event);
    }

    /**
     * The name of the transport ({@link Transport#name()}: {@code kafka}, {@code log}, ...), for traces
     * ({@code messaging.system}); empty when the publisher does not say.
     */
    default String transport() {
        return "";
    }

    /**
     * Where this publisher sends: the Kafka or log topic, the NATS subject, the RabbitMQ exchange; for
     * traces ({@code messaging.destination.name}). Empty when the publisher does not say.
     */
    default String destination() {
        return "";
    }

    /** The largest encoded event this transport accepts; larger ones fail their send at once. */
    int maxEventBytes();

    /** Waits for every send so far to complete; then closes. */
    @Override
    void close();
}
