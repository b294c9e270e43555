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

    /** The largest encoded event this transport accepts; larger ones fail their send at once. */
    int maxEventBytes();

    /** Waits for every send so far to complete; then closes. */
    @Override
    void close();
}
