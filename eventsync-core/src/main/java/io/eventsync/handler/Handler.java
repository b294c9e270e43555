package io.eventsync.handler;

import com.google.protobuf.Message;

/**
 * Handles events whose payload is a {@code T}. Runs with a deadline: past it, the context's
 * {@link CancellationToken} fires and the thread is interrupted. Throwing an exception means a
 * transient failure (retried with backoff) unless it is a {@link io.eventsync.PermanentException}.
 */
@FunctionalInterface
public interface Handler<T extends Message> {
    Outcome handle(T payload, EventContext context) throws Exception;
}
