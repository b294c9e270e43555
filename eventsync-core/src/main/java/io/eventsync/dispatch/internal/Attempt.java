package io.eventsync.dispatch.internal;

import com.google.protobuf.Message;
import io.eventsync.dispatch.Invocation;
import io.eventsync.handler.CancellationToken;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.HandlerRegistry.Registration;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;

/**
 * One attempt to handle one event: the {@link Invocation} the apply scope sees, the {@link EventContext}
 * the handler sees, and its {@link CancellationToken}.
 *
 * <p>The lock of this object decides the race between the handler returning ({@link #finish()}) and
 * the watchdog timing it out ({@link #timeOut()}) or abandoning it ({@link #abandon()}): exactly one of
 * "finished" and "abandoned" wins, and the runner thread is only interrupted while it is still inside
 * this attempt.
 */
final class Attempt implements Invocation, EventContext, CancellationToken {
    private final Envelope envelope;
    private final Message payload;
    private final Registration registration;
    private final String subscription;
    private final String partition;
    private final long offset;
    private final int attempt;
    private final Instant deadline;
    final long deadlineNanos;
    final long graceNanos;
    final Lane.Runner runner;
    final Work work;

    private final Object lock = new Object();
    private Map<Class<?>, Object> resources; // guarded by lock
    private List<Runnable> abortHooks; // guarded by lock
    private List<Runnable> cancelCallbacks; // guarded by lock
    private List<Envelope> emitted; // guarded by lock
    private boolean proceeded;
    private boolean finished; // guarded by lock
    private volatile boolean abandoned;
    /** True for an attempt inside a batch: its number was not counted on the work when it started. */
    boolean batched;
    private volatile boolean cancelled;
    private volatile boolean timedOut;

    Attempt(Work work, String subscription, int attempt, Instant deadline, long deadlineNanos, long graceNanos,
            Lane.Runner runner) {
        this.envelope = work.envelope;
        this.payload = work.payload;
        this.registration = work.registration;
        this.subscription = subscription;
        this.partition = work.partition;
        this.offset = work.offset;
        this.attempt = attempt;
        this.deadline = deadline;
        this.deadlineNanos = deadlineNanos;
        this.graceNanos = graceNanos;
        this.runner = runner;
        this.work = work;
    }

    // ---- Invocation ----------------------------------------------------------------------------

    @Override
    public Envelope envelope() {
        return envelope;
    }

    @Override
    public String subscription() {
        return subscription;
    }

    @Override
    public String partition() {
        return partition;
    }

    @Override
    public boolean replaying() {
        return work.letter != null;
    }

    @Override
    public long offset() {
        return offset;
    }

    @Override
    public int attempt() {
        return attempt;
    }

    @Override
    public <R> void bind(Class<R> type, R resource) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(resource, "resource");
        synchronized (lock) {
            if (resources == null) {
                resources = new HashMap<>(4);
            }
            resources.put(type, resource);
        }
    }

    @Override
    public void onAbort(Runnable hook) {
        Objects.requireNonNull(hook, "hook");
        synchronized (lock) {
            if (!abandoned) {
                if (abortHooks == null) {
                    abortHooks = new ArrayList<>(2);
                }
                abortHooks.add(hook);
                return;
            }
        }
        hook.run(); // registered after abandonment: abort at once
    }

    @Override
    public Outcome proceed() throws Exception {
        synchronized (lock) {
            if (proceeded) {
                throw new IllegalStateException("Invocation.proceed() called twice for event " + envelope.getId()
                        + "; an apply scope runs the handler at most once per attempt");
            }
            proceeded = true;
        }
        Outcome outcome = registration.handler().handle(payload, this);
        if (outcome == null) {
            throw new IllegalStateException("handler for " + registration.type() + " returned null for event "
                    + envelope.getId() + "; return an Outcome (applied, skipped, retryAfter or reject)");
        }
        return outcome;
    }

    @Override
    public List<Envelope> emitted() {
        synchronized (lock) {
            return emitted == null ? List.of() : List.copyOf(emitted);
        }
    }

    @Override
    public boolean abandoned() {
        return abandoned;
    }

    // ---- EventContext --------------------------------------------------------------------------

    @Override
    public Instant deadline() {
        return deadline;
    }

    @Override
    public CancellationToken cancellation() {
        return this;
    }

    @Override
    public void emit(Envelope followUp) {
        Objects.requireNonNull(followUp, "followUp");
        synchronized (lock) {
            if (finished || abandoned) {
                throw new IllegalStateException("event " + envelope.getId() + " emitted a follow-up after its "
                        + "invocation ended; emit only while handling");
            }
            if (emitted == null) {
                emitted = new ArrayList<>(2);
            }
            emitted.add(followUp);
        }
    }

    @Override
    public <R> Optional<R> resource(Class<R> type) {
        synchronized (lock) {
            return resources == null ? Optional.empty() : Optional.ofNullable(type.cast(resources.get(type)));
        }
    }

    // ---- CancellationToken ---------------------------------------------------------------------

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public void throwIfCancelled() {
        if (cancelled) {
            throw new CancellationException("handling of event " + envelope.getId() + " (" + registration.type()
                    + ") was cancelled: " + (timedOut ? "its deadline " + deadline + " passed" : "the consumer is stopping"));
        }
    }

    @Override
    public void onCancel(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        synchronized (lock) {
            if (!cancelled) {
                if (cancelCallbacks == null) {
                    cancelCallbacks = new ArrayList<>(2);
                }
                cancelCallbacks.add(callback);
                return;
            }
        }
        callback.run();
    }

    // ---- lifecycle (lane and watchdog) ---------------------------------------------------------

    String type() {
        return registration.type();
    }

    boolean timedOut() {
        return timedOut;
    }

    /**
     * The handler returned (or threw). Returns false if the attempt was already abandoned: then its
     * result must be ignored. After true, the watchdog no longer touches the runner thread.
     */
    boolean finish() {
        synchronized (lock) {
            if (abandoned) {
                return false;
            }
            finished = true;
            return true;
        }
    }

    /** The deadline passed: fire the token and interrupt the runner, unless the handler already returned. */
    boolean timeOut() {
        List<Runnable> callbacks;
        synchronized (lock) {
            if (finished || abandoned) {
                return false;
            }
            timedOut = true;
            callbacks = fireLocked();
            runner.thread.interrupt();
        }
        runAll(callbacks);
        return true;
    }

    /** Cancels because the dispatcher stops (no timeout recorded). */
    void cancel() {
        List<Runnable> callbacks;
        synchronized (lock) {
            if (finished || abandoned) {
                return;
            }
            callbacks = fireLocked();
            runner.thread.interrupt();
        }
        runAll(callbacks);
    }

    /**
     * The grace period passed too: mark abandoned so a late return changes nothing, and return the abort
     * hooks to run. Returns null if the handler returned in the meantime.
     */
    List<Runnable> abandon() {
        synchronized (lock) {
            if (finished || abandoned) {
                return null;
            }
            abandoned = true;
            return abortHooks == null ? List.of() : new ArrayList<>(abortHooks);
        }
    }

    private List<Runnable> fireLocked() {
        if (cancelled) {
            return List.of();
        }
        cancelled = true;
        List<Runnable> callbacks = cancelCallbacks == null ? List.of() : new ArrayList<>(cancelCallbacks);
        cancelCallbacks = null;
        return callbacks;
    }

    private static void runAll(List<Runnable> callbacks) {
        for (Runnable callback : callbacks) {
            try {
                callback.run();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Attempt.class).warn("a cancellation callback failed", e);
            }
        }
    }
}
