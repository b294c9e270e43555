package io.eventsync.dispatch;

import io.eventsync.handler.EventContext;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import java.util.List;

/**
 * One attempt to handle one event, as seen by an {@link ApplyScope}. The scope binds resources, may
 * register abort hooks, calls {@link #proceed()} at most once, then makes the outcome durable.
 */
public interface Invocation {

    Envelope envelope();

    String subscription();

    /** The event's ordering key: its partition key, or its subject when it has none. */
    default String key() {
        String key = envelope().getPartitionKey();
        return key.isEmpty() ? envelope().getSubject() : key;
    }

    /**
     * True while a dead letter is re-applied (a replay, or the release of a HELD letter): its own letter
     * parks its key, so a scope that refuses parked keys must let it through.
     */
    default boolean replaying() {
        return false;
    }

    /** The transport partition and offset the event came from. */
    String partition();

    long offset();

    /** 1-based attempt number. */
    int attempt();

    /** Makes {@code resource} available to the handler through {@link EventContext#resource}. */
    <R> void bind(Class<R> type, R resource);

    /** See {@link EventContext#onAbort}. */
    void onAbort(Runnable hook);

    /** Runs the handler (validation already passed). Rethrows what the handler threw. */
    Outcome proceed() throws Exception;

    /** Follow-up events the handler emitted during {@link #proceed()}, in order. */
    List<Envelope> emitted();

    /** True once the dispatcher abandoned this invocation: the scope must not commit anything. */
    boolean abandoned();
}
