package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.Invocation;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event of a batch, as its apply scope sees it. Its {@link Attempt} (deadline, cancellation token,
 * watchdog) starts only when the scope calls {@link #proceed()}, so each handler of a batch gets its
 * whole timeout however long its neighbours took. Resources bound and abort hooks registered before
 * that are handed to the attempt when it starts.
 */
final class BatchInvocation implements Invocation {

    /** Starts and ends the attempts of a batch, as the engine does for a lone event. */
    interface Attempts {
        /** A started, watched attempt; throws {@link CancellationException} when the dispatcher is stopping. */
        Attempt start(Work work, Lane.Runner runner);

        /** False when the watchdog abandoned the attempt (its result must then be ignored). */
        boolean end(Attempt attempt);
    }

    final Work work;
    private final String subscription;
    private final Lane.Runner runner;
    private final Attempts attempts;
    /** Shared by the invocations of one batch: once one is abandoned, no other may start an attempt. */
    private final AtomicBoolean batchAbandoned;
    private final Map<Class<?>, Object> resources = new LinkedHashMap<>(2);
    private final List<Runnable> abortHooks = new ArrayList<>(1);
    private volatile Attempt attempt;
    /** Nanoseconds the handler took; 0 until it returned. */
    long handlerNanos;

    BatchInvocation(Work work, String subscription, Lane.Runner runner, Attempts attempts, AtomicBoolean batchAbandoned) {
        this.batchAbandoned = batchAbandoned;
        this.work = work;
        this.subscription = subscription;
        this.runner = runner;
        this.attempts = attempts;
    }

    @Override
    public Envelope envelope() {
        return work.envelope;
    }

    @Override
    public String subscription() {
        return subscription;
    }

    @Override
    public String key() {
        return work.key;
    }

    @Override
    public String partition() {
        return work.partition;
    }

    @Override
    public long offset() {
        return work.offset;
    }

    @Override
    public int attempt() {
        return work.attempts + 1;
    }

    @Override
    public <R> void bind(Class<R> type, R resource) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(resource, "resource");
        Attempt a = attempt;
        if (a != null) {
            a.bind(type, resource);
        } else {
            resources.put(type, resource);
        }
    }

    @Override
    public void onAbort(Runnable hook) {
        Objects.requireNonNull(hook, "hook");
        Attempt a = attempt;
        if (a != null) {
            a.onAbort(hook);
        } else {
            abortHooks.add(hook);
        }
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Outcome proceed() throws Exception {
        if (attempt != null) {
            throw new IllegalStateException("Invocation.proceed() called twice for event " + work.eventId()
                    + "; an apply scope runs the handler at most once per attempt");
        }
        if (batchAbandoned.get()) {
            // A scope that went on after an abandoned neighbour: this thread no longer owns the batch's events.
            throw new CancellationException("event " + work.eventId() + " is in a batch whose runner was abandoned");
        }
        Attempt a = attempts.start(work, runner);
        resources.forEach((type, resource) -> a.bind((Class) type, resource));
        abortHooks.forEach(a::onAbort);
        attempt = a;
        long start = System.nanoTime();
        try {
            return a.proceed();
        } finally {
            handlerNanos = Math.max(1, System.nanoTime() - start);
            if (!attempts.end(a)) {
                batchAbandoned.set(true);
                // Abandoned: this thread is a zombie now; whatever the handler did must not commit.
                throw new CancellationException("event " + work.eventId() + " was abandoned by the watchdog; its"
                        + " batch is not committed");
            }
        }
    }

    @Override
    public List<Envelope> emitted() {
        Attempt a = attempt;
        return a == null ? List.of() : a.emitted();
    }

    @Override
    public boolean abandoned() {
        Attempt a = attempt;
        return a != null && a.abandoned();
    }

    /** True when the scope ran this event's handler. */
    boolean proceeded() {
        return attempt != null;
    }
}
