package io.eventsync.handler;

import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.Optional;

/** What a handler knows about the event it is handling, and what it may do besides returning. */
public interface EventContext {

    /** The whole envelope: id, source, subject, sequence, time, attributes, raw payload. */
    Envelope envelope();

    /** The subscription (consumer group) this invocation belongs to. */
    String subscription();

    /** 1 on the first attempt, 2 on the first retry, ... */
    int attempt();

    /** When this invocation times out. */
    Instant deadline();

    CancellationToken cancellation();

    /**
     * Emits a follow-up event. With the JDBC apply path it is written to the handling service's own
     * outbox in the same transaction as the handler's changes, so it exists if and only if they commit.
     */
    void emit(Envelope followUp);

    /**
     * A resource bound by the apply path, e.g. the {@link java.sql.Connection} of the copy's apply
     * transaction. Empty when no apply scope bound one of that type.
     */
    <R> Optional<R> resource(Class<R> type);

    /**
     * Registers a hook run if this invocation is abandoned (it ignored cancellation past the grace
     * period), e.g. to abort a connection so nothing the handler does can commit.
     */
    void onAbort(Runnable hook);
}
