package io.eventsync.dispatch.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.KeyParkedException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.DeadLetterPolicy;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.internal.Backoff;
import io.eventsync.transport.Delivery;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machinery behind {@code Dispatcher}: decodes deliveries, routes them to lanes by key, runs
 * each attempt inside the apply scope under the watchdog, turns outcomes and failures into retries,
 * dead letters (parking keys) and in-order acknowledgements.
 *
 * <p>Invariant: a delivery's ticket is marked done (and so acknowledged, in partition order) only
 * after its event was applied, skipped, or stored as a FAILED or HELD dead letter. Every other path
 * (stopping, a store that cannot be written, an abandoned runner) leaves it unacknowledged.
 */
public final class DispatchEngine implements Lane.Processor, Watchdog.Listener {
    private static final Logger log = LoggerFactory.getLogger(DispatchEngine.class);
    /**
     * What {@code Invocation.partition()/offset()} say while a dead letter is re-applied: it did not
     * come from the transport now, so an apply scope must not record a transport position for it.
     */
    public static final String REPLAY_PARTITION = "dead-letters";
    public static final long REPLAY_OFFSET = -1;
    private static final long ORPHAN_SWEEP_SECONDS = 30;
    /**
     * Between tries of a dead-letter store write, by consecutive failures of that write: 200 ms after
     * the first, doubling to 5 s, without jitter (the schedule this retry has always had).
     */
    private static final Backoff STORE_RETRY = Backoff.doubling(Duration.ofMillis(200), Duration.ofSeconds(5));

    /** Everything the builder collected, validated. */
    public record Settings(String subscription, HandlerRegistry handlers, TypeRegistry types, EnvelopeCodec codec,
                           EnvelopeValidator validator, ApplyScope scope, DeadLetterStore deadLetters, int lanes,
                           int maxInFlight, boolean skipUnknownTypes, DeadLetterPolicy unknownTypeDeadLetterPolicy,
                           MeterRegistry meterRegistry, Duration shutdownTimeout, Clock clock,
                           Consumer<List<Envelope>> followUps, Consumer<CopyFreshness> freshnessListener,
                           int maxBatch, long maxBatchBytes, int applyConcurrency) {}

    private final Settings s;
    private final Lane[] lanes;
    private final Watchdog watchdog;
    private final AckTracker acks;
    private final DispatchMetrics metrics;
    private final FreshnessBoard freshness;
    private final LagBoard lag;
    private final Parking parking;
    private final Intake intake;
    private final Semaphore permits;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ReentrantLock idleLock = new ReentrantLock();
    private final Condition idle = idleLock.newCondition();
    private final Set<String> degraded = ConcurrentHashMap.newKeySet();
    private final Releases releases;
    /** The apply scope checks parked keys in its own transaction: no store query before an attempt. */
    private final boolean scopeRefusesParkedKeys;
    /** Events waiting at once on a lane go to the scope together (see {@link #processBatch}). */
    private final boolean batching;
    /**
     * Keys this dispatcher saw parked (dead-lettered or held) and not applied since: their events skip
     * batches, since the scope would refuse the whole batch for them. Only a hint for speed: a key
     * parked elsewhere makes one batch fall back, and the single path holds its event.
     */
    private final Set<String> parkedHint = ConcurrentHashMap.newKeySet();
    private final BatchInvocation.Attempts batchAttempts = new BatchInvocation.Attempts() {
        @Override
        public Attempt start(Work work, Lane.Runner runner) {
            if (stopping) {
                throw new java.util.concurrent.CancellationException("subscription " + s.subscription() + " is stopping");
            }
            return begin(work, work.attempts + 1, runner, true);
        }

        @Override
        public boolean end(Attempt a) {
            return DispatchEngine.this.end(a);
        }
    };
    private final ScheduledExecutorService sweeper;
    private final Counter storeFailures;
    private final AtomicInteger storeBlocked = new AtomicInteger();
    private final Gauge storeBlockedGauge;
    private volatile boolean closing;
    private volatile boolean stopping;

    public DispatchEngine(Settings settings) {
        this.s = settings;
        this.metrics = new DispatchMetrics(settings.meterRegistry(), settings.subscription(), settings.handlers());
        this.acks = new AckTracker(d -> {});
        this.lag = new LagBoard(settings.subscription(), settings.clock(), settings.meterRegistry(), acks);
        this.freshness = new FreshnessBoard(settings.subscription(), settings.clock(), settings.meterRegistry(),
                lag::of);
        this.parking = new Parking(settings.subscription(), settings.deadLetters(), settings.clock());
        this.scopeRefusesParkedKeys = settings.scope().refusesParkedKeys(settings.deadLetters());
        // Batches need the scope to check parked keys in its unit of work: the one pre-check per event
        // (holdIfParked) cannot be undone when the batch falls back to single events.
        this.batching = settings.maxBatch() > 1 && settings.scope().batches() && scopeRefusesParkedKeys
                && settings.followUps() == null;
        this.storeFailures = Counter.builder("eventsync.dead_letters.store_failures")
                .description("writes to the dead-letter store that failed (each is retried; nothing is dropped)")
                .tag("subscription", settings.subscription()).register(settings.meterRegistry());
        this.storeBlockedGauge = Gauge.builder("eventsync.dead_letters.store_blocked", storeBlocked, AtomicInteger::get)
                .description("events waiting for a dead-letter store write; their partitions' acknowledgements wait")
                .tag("subscription", settings.subscription()).register(settings.meterRegistry());
        this.permits = new Semaphore(settings.maxInFlight());
        this.intake = new Intake(settings);
        this.releases = new Releases(settings.subscription(), parking, intake, this::processWork, this::laneOf);
        settings.handlers().registrations().keySet().forEach(metrics::of); // degraded gauges exist from the start
        this.lanes = new Lane[settings.lanes()];
        // Batching: at most applyConcurrency lanes apply at once, so a backlog becomes fewer, larger batches
        // (see Lane); without batching a limit would only take parallelism away.
        Turns turns = batching && settings.applyConcurrency() < settings.lanes() ? new Turns(settings.applyConcurrency()) : null;
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane("eventsync-" + settings.subscription() + "-lane-" + i, this,
                    batching ? settings.maxBatch() : 1, settings.maxBatchBytes(), turns);
        }
        this.watchdog = new Watchdog("eventsync-" + settings.subscription() + "-watchdog", this);
        for (Lane lane : lanes) {
            lane.start();
        }
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "eventsync-" + settings.subscription() + "-letters");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::releaseOrphans, 0, ORPHAN_SWEEP_SECONDS, TimeUnit.SECONDS);
        sweeper.scheduleWithFixedDelay(this::sampleLag, 0, 1, TimeUnit.SECONDS);
        if (settings.freshnessListener() != null) {
            sweeper.scheduleWithFixedDelay(this::reportFreshness, 1, 1, TimeUnit.SECONDS);
        }
    }

    private void sampleLag() {
        if (!closing) {
            lag.sample();
        }
    }

    /**
     * Hands the sources that applied a heartbeat in the last second to the listener (which persists
     * them): at most once a second per source, off the lanes and the transport threads.
     */
    private void reportFreshness() {
        if (closing) {
            return;
        }
        for (CopyFreshness f : freshness.changed()) {
            try {
                s.freshnessListener().accept(f);
            } catch (RuntimeException e) {
                log.warn("recording the freshness of subscription {} for source {} failed; the next heartbeat"
                        + " tries again: {}", s.subscription(), f.source(), e.toString());
            }
        }
    }

    /**
     * Releases, in order, the HELD letters of keys with no FAILED letter ahead of them any more: left by
     * a release that a crash interrupted, in this process or another (a CLI replay), or by a hold that
     * raced with the release of its key. Runs at start and then periodically.
     */
    private void releaseOrphans() {
        if (closing) {
            return;
        }
        try {
            for (String key : parking.orphanedKeys()) {
                releases.resume(key);
            }
        } catch (RuntimeException e) {
            log.warn("looking for held dead letters to release on subscription {} failed; trying again in {} s",
                    s.subscription(), ORPHAN_SWEEP_SECONDS, e);
        }
    }

    // ---- intake (transport threads) ------------------------------------------------------------

    /** Blocks while {@code maxInFlight} events are unfinished: backpressure toward the transport. */
    public void onDelivery(Delivery delivery) throws InterruptedException {
        if (closing) {
            return; // not acknowledged: delivered again to the next consumer
        }
        permits.acquire();
        if (closing) {
            permits.release();
            return;
        }
        inFlight.incrementAndGet();
        AckTracker.Ticket ticket = acks.register(delivery);
        Work work = intake.prepare(delivery, ticket);
        if (work.envelope != null) {
            freshness.delivered(work.envelope.getSource(), work.partition, work.isHeartbeat);
        }
        if (work.isHeartbeat) {
            heartbeat(work);
            return;
        }
        laneOf(work.key).enqueue(work);
    }

    /**
     * A heartbeat is done at once, but recorded only when it is acknowledged: when every earlier delivery
     * of its partition is done, so the copy really holds what the source had committed before it.
     * No handler, no inbox row, no applied count, never a dead letter.
     */
    private void heartbeat(Work w) {
        Heartbeat beat = w.heartbeat;
        if (beat != null) {
            String partition = w.partition;
            w.ticket.whenAcknowledged(() -> freshness.applied(beat, partition));
        } else {
            log.debug("subscription {}: heartbeat {} at {} carries no usable payload; acknowledged and ignored",
                    s.subscription(), w.eventId(), w.origin);
        }
        finishDelivery(w);
    }

    private Lane laneOf(String key) {
        int h = key.hashCode();
        return lanes[Math.floorMod(h ^ (h >>> 16), lanes.length)];
    }

    // ---- lanes ---------------------------------------------------------------------------------

    @Override
    public Step process(Entry head, Lane.Runner runner) {
        try {
            return head instanceof Work w ? processWork(w, runner) : releases.process((Release) head, runner);
        } catch (RuntimeException e) {
            // A bug here must not kill the lane or lose the event: try again later, unacknowledged.
            log.error("processing key {} on {} failed unexpectedly; retrying in 1 s", head.key,
                    runner.thread.getName(), e);
            return Step.retry(TimeUnit.SECONDS.toNanos(1));
        }
    }

    private Step processWork(Work w, Lane.Runner runner) {
        Next next = w.next;
        switch (next.kind) {
            case STORE_DEAD_LETTER -> {
                return deadLetter(w, next.reason, next.error);
            }
            case REMOVE_LETTER -> {
                return succeeded(w);
            }
            case FAIL -> {
                w.next = Next.ATTEMPT;
                return failed(w, next.error);
            }
            case FINISHED, FAILED_AGAIN -> {
                // Finished, but something after the decision threw (process() retries): make sure the
                // delivery is acknowledged (finishDelivery is idempotent).
                if (w.letter == null) {
                    finishDelivery(w);
                }
                return Step.DONE;
            }
            default -> { } // ATTEMPT, SKIP, DEAD_LETTER: the key's parking decides first
        }
        // A scope that refuses parked keys decides even for a key remembered parked: it knows whether the
        // event was applied already (a redelivery is a duplicate, not a HELD letter).
        if (w.letter == null && w.attempts == 0 && !w.key.isEmpty()
                && (!scopeRefusesParkedKeys || next.kind != Next.Kind.ATTEMPT)) {
            Step held = holdIfParked(w); // the store decides: another instance may have parked the key
            if (held != null) {
                return held;
            }
        }
        return switch (next.kind) {
            case SKIP -> {
                metrics.of(w.type()).skipped.increment();
                yield succeeded(w);
            }
            case DEAD_LETTER -> {
                w.recordFailure(parking.now(), next.error);
                yield deadLetter(w, next.reason, next.error);
            }
            default -> attempt(w, runner);
        };
    }

    private Step attempt(Work w, Lane.Runner runner) {
        if (stopping) {
            return Step.STOPPED;
        }
        HandlerOptions options = w.registration.options();
        int number = ++w.attempts;
        long start = System.nanoTime();
        Attempt a = begin(w, number, runner, false);
        Outcome outcome = null;
        Throwable error = null;
        try {
            outcome = s.scope().apply(a);
            if (outcome == null) {
                error = new IllegalStateException("the apply scope returned null for event " + w.eventId());
            }
        } catch (KeyParkedException e) {
            error = e;
        } catch (OutOfMemoryError | InternalError e) {
            throw e; // JVM-fatal: the lane replaces its runner; the event stays unacknowledged
        } catch (Throwable t) {
            error = t; // anything else a handler throws (a StackOverflowError too) is a failed attempt
        }
        if (!end(a)) {
            return Step.ABANDONED; // the watchdog gave up on us; our replacement owns the event now
        }
        DispatchMetrics.TypeMeters m = metrics.of(w.type());
        m.duration.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        if (stopping && (error != null || a.isCancelled())) {
            return Step.STOPPED; // cancelled by close(): leave it unacknowledged
        }
        if (error instanceof KeyParkedException) {
            w.attempts--; // the scope refused before the handler ran: not an attempt
            Step held = holdIfParked(w);
            return held != null ? held : Step.retry(0); // released meanwhile: run it
        }
        if (error != null) {
            if (a.timedOut() && !(error instanceof PermanentException)) {
                error = new EventsyncException("handler for " + w.type() + " timed out after "
                        + options.timeout().toMillis() + " ms on attempt " + number, error);
            }
            return failed(w, error);
        }
        return outcome(w, a, outcome, m);
    }

    /** Starts attempt {@code number} of {@code w} on {@code runner}, under the watchdog; {@code batched}: see {@link Attempt#batched}. */
    private Attempt begin(Work w, int number, Lane.Runner runner, boolean batched) {
        HandlerOptions options = w.registration.options();
        Attempt a = new Attempt(w, s.subscription(), number, s.clock().instant().plus(options.timeout()),
                System.nanoTime() + options.timeout().toNanos(), options.cancellationGrace().toNanos(), runner);
        a.batched = batched; // before the watchdog can see it
        runner.attempt = a;
        watchdog.watch(a);
        if (stopping) {
            a.cancel();
        }
        return a;
    }

    /** Ends an attempt; false when the watchdog abandoned it (then nothing of it may be used). */
    private boolean end(Attempt a) {
        if (!a.finish()) {
            return false;
        }
        a.runner.attempt = null;
        watchdog.unwatch(a);
        Thread.interrupted(); // a timeout interrupt belongs to this attempt only
        return true;
    }

    // ---- batches ---------------------------------------------------------------------------------

    /**
     * Only a delivery at its first try, decoded, with a handler and nothing pending goes in a batch:
     * everything else (retries, dead letters to store, replays, undecodable or unknown events) takes the
     * one-event path, so a failing event never keeps failing batches.
     */
    @Override
    public boolean batchable(Entry head) {
        return head instanceof Work w && w.letter == null && w.attempts == 0 && w.registration != null
                && w.next.kind == Next.Kind.ATTEMPT && w.storeFailures == 0
                && (parkedHint.isEmpty() || !parkedHint.contains(w.key));
    }

    @Override
    public long weight(Entry head) {
        return head instanceof Work w ? w.bytes.length : 0;
    }

    /**
     * Applies the front entries of several keys (a key's together, in order) in one unit of work of the
     * scope ({@link ApplyScope#applyAll}).
     * When it commits, every event is done (applied or skipped) and acknowledged in partition order as
     * usual. When it does not, nothing of it took effect, no attempt is counted, and the lane applies
     * each event alone, where a failure gets its usual retries and dead letter and parks only its key.
     */
    @Override
    public List<Step> processBatch(List<Entry> heads, Lane.Runner runner) {
        if (stopping) {
            return List.of(Step.STOPPED);
        }
        for (Entry head : heads) {
            if (!batchable(head)) {
                return null; // its state changed since the lane took it: everything goes alone
            }
        }
        List<BatchInvocation> batch = new java.util.ArrayList<>(heads.size());
        java.util.concurrent.atomic.AtomicBoolean batchAbandoned = new java.util.concurrent.atomic.AtomicBoolean();
        // A redelivery can queue the same event twice behind its key: only its first copy goes to the scope,
        // and the later one is a duplicate of it once the batch commits (one scope could not tell them apart).
        java.util.Set<String> ids = new java.util.HashSet<>();
        boolean[] repeated = new boolean[heads.size()];
        for (int i = 0; i < heads.size(); i++) {
            Work w = (Work) heads.get(i);
            if (!ids.add(w.eventId())) {
                repeated[i] = true;
                continue;
            }
            batch.add(new BatchInvocation(w, s.subscription(), runner, batchAttempts, batchAbandoned));
        }
        long start = System.nanoTime();
        List<Outcome> outcomes = null;
        Throwable failure = null;
        try {
            outcomes = s.scope().applyAll(batch);
            if (outcomes == null || outcomes.size() != batch.size()) {
                throw new IllegalStateException("the apply scope returned " + (outcomes == null ? "null" : outcomes.size()
                        + " outcomes") + " for a batch of " + batch.size() + " events");
            }
        } catch (OutOfMemoryError | InternalError e) {
            throw e;
        } catch (Throwable t) {
            outcomes = null;
            failure = t;
        }
        for (BatchInvocation b : batch) {
            if (b.abandoned()) {
                return List.of(Step.ABANDONED); // the fresh runner applies the batch's events one at a time
            }
        }
        runner.attempt = null;
        Thread.interrupted();
        if (outcomes == null) {
            metrics.batchFallback();
            if (stopping) {
                return List.of(Step.STOPPED);
            }
            log.debug("a batch of {} events on subscription {} was not committed ({}); applying them one at a time",
                    batch.size(), s.subscription(), String.valueOf(failure));
            return null;
        }
        metrics.batch(batch.size(), System.nanoTime() - start);
        List<Step> steps = new java.util.ArrayList<>(heads.size());
        int next = 0;
        for (int h = 0; h < heads.size(); h++) {
            if (repeated[h]) {
                Work w = (Work) heads.get(h);
                log.debug("event {} (subject {}) was delivered twice into one batch; its second copy is a duplicate",
                        w.eventId(), w.key);
                metrics.of(w.type()).skipped.increment();
                metrics.batchDuplicate();
                steps.add(succeeded(w));
                continue;
            }
            int i = next++;
            BatchInvocation b = batch.get(i);
            Outcome outcome = outcomes.get(i);
            DispatchMetrics.TypeMeters m = metrics.of(b.work.type());
            if (b.handlerNanos > 0) {
                m.duration.record(b.handlerNanos, TimeUnit.NANOSECONDS);
            }
            if (outcome instanceof Outcome.Skipped skipped) {
                log.debug("event {} (subject {}) skipped in a batch: {}", b.work.eventId(), b.work.key, skipped.reason());
                m.skipped.increment();
            } else {
                if (!(outcome instanceof Outcome.Applied)) {
                    log.error("the apply scope committed event {} of subscription {} in a batch with outcome {};"
                            + " a batch commits only applied or skipped events (counted as applied)",
                            b.work.eventId(), s.subscription(), outcome);
                }
                m.applied.increment();
            }
            steps.add(succeeded(b.work));
        }
        return steps;
    }

    private Step outcome(Work w, Attempt a, Outcome outcome, DispatchMetrics.TypeMeters m) {
        if (outcome instanceof Outcome.Applied) {
            List<Envelope> emitted = a.emitted();
            if (s.followUps() == null && s.scope() == ApplyScope.DIRECT && !emitted.isEmpty()) {
                // Acking it as applied would silently drop the follow-ups: nothing would ever send them.
                return failed(w, new PermanentException("handler " + w.type() + " emitted " + emitted.size()
                        + " follow-up events for event " + w.eventId() + ", but subscription " + s.subscription()
                        + " has nowhere to put them: configure Dispatcher.builder().followUps(...) or an"
                        + " ApplyScope that writes them (JdbcApplyScope writes them to the service's outbox)"));
            }
            if (s.followUps() != null && !emitted.isEmpty()) {
                try {
                    s.followUps().accept(emitted);
                } catch (RuntimeException e) {
                    return failed(w, new EventsyncException("publishing " + emitted.size()
                            + " follow-up events of event " + w.eventId() + " failed", e));
                }
            }
            m.applied.increment();
            return succeeded(w);
        }
        if (outcome instanceof Outcome.Skipped skipped) {
            log.debug("event {} (subject {}) skipped by handler {}: {}", w.eventId(), w.key, w.type(),
                    skipped.reason());
            m.skipped.increment();
            return succeeded(w);
        }
        if (outcome instanceof Outcome.RetryAfter retry) {
            return retryOrGiveUp(w, new EventsyncException("handler asked to retry after " + retry.delay()
                    + ": " + retry.reason()), retry.delay().toNanos());
        }
        Outcome.Reject reject = (Outcome.Reject) outcome;
        PermanentException error = new PermanentException("rejected by handler " + w.type() + ": " + reject.reason());
        w.recordFailure(parking.now(), error);
        return deadLetter(w, DeadLetterReason.REJECTED, error);
    }

    private Step failed(Work w, Throwable error) {
        if (error instanceof PermanentException) {
            w.recordFailure(parking.now(), error);
            return deadLetter(w, DeadLetterReason.of(error), error);
        }
        long backoff = w.registration.options().retryPolicy().backoff(w.attempts).toNanos();
        return retryOrGiveUp(w, error, backoff);
    }

    private Step retryOrGiveUp(Work w, Throwable error, long delayNanos) {
        w.recordFailure(parking.now(), error);
        int max = w.registration.options().retryPolicy().maxAttempts();
        if (w.attempts < max) {
            metrics.of(w.type()).retried.increment();
            log.debug("event {} (subject {}) failed attempt {} of {} in handler {}; retrying in {} ms: {}",
                    w.eventId(), w.key, w.attempts, max, w.type(), TimeUnit.NANOSECONDS.toMillis(delayNanos),
                    error.toString());
            return Step.retry(delayNanos);
        }
        return deadLetter(w, DeadLetterReason.EXHAUSTED, new EventsyncException("gave up after " + w.attempts
                + " attempts; last error: " + error.getMessage(), error));
    }

    private Step deadLetter(Work w, DeadLetterReason reasonClass, Throwable error) {
        String reason = reasonClass.describe(error);
        DeadLetter letter;
        try {
            letter = w.letter == null ? parking.fail(w, reason, error) : parking.failAgain(w, reason, error);
        } catch (RuntimeException e) {
            w.next = Next.storeDeadLetter(reasonClass, error);
            return storeFailed(w, e);
        }
        w.next = w.letter == null ? Next.FINISHED : Next.FAILED_AGAIN;
        storeRecovered(w);
        if (letter.parksKey() && !w.key.isEmpty()) {
            parkedHint.add(w.key);
        }
        metrics.of(w.type()).deadLettered(reasonClass.label);
        log.warn("event {} (subject {}, handler {}) on subscription {} is dead letter {} after {} attempt(s){}: {}",
                w.eventId().isEmpty() ? "<undecodable>" : w.eventId(), w.key, w.type(), s.subscription(),
                letter.id(), letter.attempts(), letter.parksKey() ? "; its key is parked" : "", reason);
        if (w.letter == null) {
            finishDelivery(w);
        }
        return Step.DONE;
    }

    /** Holds the event if its key is parked in the store; null when it is not (then it runs). */
    private Step holdIfParked(Work w) {
        try {
            DeadLetter letter = parking.hold(w).orElse(null);
            if (letter == null) {
                return null;
            }
            parkedHint.add(w.key);
            log.debug("event {} (subject {}) held as dead letter {} behind its parked key", w.eventId(), w.key,
                    letter.id());
        } catch (RuntimeException e) {
            return storeFailed(w, e);
        }
        finishDelivery(w);
        return Step.DONE;
    }

    private Step succeeded(Work w) {
        if (!parkedHint.isEmpty()) {
            parkedHint.remove(w.key); // applied: its key is not parked (any more)
        }
        if (w.letter == null) {
            w.next = Next.FINISHED;
            finishDelivery(w);
            return Step.DONE;
        }
        try {
            parking.store().remove(w.letter.id());
        } catch (RuntimeException e) {
            w.next = Next.REMOVE_LETTER;
            return storeFailed(w, e);
        }
        w.next = Next.FINISHED;
        storeRecovered(w);
        log.info("dead letter {} (event {}, subject {}) was re-applied on subscription {}", w.letter.id(),
                w.eventId(), w.key, s.subscription());
        return Step.DONE;
    }

    /**
     * The dead-letter store could not be written: keep the event (unacknowledged) and try again, loudly:
     * {@code eventsync.dead_letters.store_failures} counts every failed write and
     * {@code eventsync.dead_letters.store_blocked} gauges the events waiting for the store, so a health
     * check or an alert sees acknowledgements stopping behind them.
     */
    private Step storeFailed(Work w, RuntimeException e) {
        if (w.storeFailures++ == 0) {
            storeBlocked.incrementAndGet();
            w.blockedOnStore = true;
        }
        storeFailures.increment();
        long delay = STORE_RETRY.delayNanos(w.storeFailures);
        String message = "writing the dead letter store for event {} (subject {}) on subscription {} failed {} time(s);"
                + " its partition's acknowledgements wait behind it; retrying in {} ms";
        Object[] args = {w.eventId(), w.key, s.subscription(), w.storeFailures, TimeUnit.NANOSECONDS.toMillis(delay), e};
        if (w.storeFailures % 10 == 0) {
            log.error(message, args);
        } else {
            log.warn(message, args);
        }
        return Step.retry(delay);
    }

    /** The event's store write succeeded after failures: it no longer blocks. */
    private void storeRecovered(Work w) {
        if (w.blockedOnStore) {
            w.blockedOnStore = false;
            storeBlocked.decrementAndGet();
        }
    }

    private void finishDelivery(Work w) {
        storeRecovered(w);
        if (!w.ticket.done()) {
            return; // finished before: its permit and in-flight count were given back then
        }
        permits.release();
        if (inFlight.decrementAndGet() == 0 && closing) {
            idleLock.lock();
            try {
                idle.signalAll();
            } finally {
                idleLock.unlock();
            }
        }
    }

    // ---- release of dead letters -----------------------------------------------------------------

    /** Queues a replay or discard behind the key's current entries; see {@code Dispatcher#replay}. */
    public CompletableFuture<Boolean> release(String letterId, boolean replay) {
        if (closing) {
            throw new IllegalStateException("dispatcher of subscription " + s.subscription() + " is closed");
        }
        return releases.request(letterId, replay);
    }

    // ---- watchdog --------------------------------------------------------------------------------

    @Override
    public void timedOut(Attempt a) {
        metrics.of(a.type()).timedOut.increment();
        log.debug("event {} (subject {}) passed its deadline in handler {}; cancelled and interrupted",
                a.envelope().getId(), a.work.key, a.type());
    }

    @Override
    public void abandoned(Attempt a, List<Runnable> abortHooks) {
        for (Runnable hook : abortHooks) {
            try {
                hook.run();
            } catch (RuntimeException e) {
                log.warn("an abort hook of event {} (handler {}) failed", a.envelope().getId(), a.type(), e);
            }
        }
        DispatchMetrics.TypeMeters m = metrics.of(a.type());
        m.abandoned.increment();
        m.degraded.set(1);
        degraded.add(a.type());
        HandlerOptions options = a.work.registration.options();
        if (a.batched) {
            a.work.attempts++; // a batch counts the attempt of the abandoned event only (the others run again)
        }
        log.warn("handler {} is degraded: it ignored cancellation of event {} (subject {}) on subscription {} "
                + "for {} ms past its {} ms timeout; abandoned thread {} and retrying the event on a fresh worker",
                a.type(), a.envelope().getId(), a.work.key, s.subscription(), options.cancellationGrace().toMillis(),
                options.timeout().toMillis(), a.runner.thread.getName());
        a.work.next = Next.fail(new EventsyncException("handler " + a.type() + " was abandoned: it did not return within "
                + options.cancellationGrace().toMillis() + " ms after its " + options.timeout().toMillis()
                + " ms timeout on attempt " + a.attempt()));
        a.runner.lane().replace(a.runner);
    }

    // ---- state and shutdown ----------------------------------------------------------------------

    public Set<String> degradedTypes() {
        return Set.copyOf(degraded);
    }

    /** The transport gave these partitions to another consumer: their heartbeats no longer count here. */
    public void partitionsReleased(java.util.Collection<String> partitions) {
        freshness.release(partitions);
    }

    /** Freshness per source, from the heartbeats acknowledged so far and the partitions awaiting their first. */
    public Map<String, CopyFreshness> freshness() {
        return freshness.snapshot();
    }

    /** The subscription delivering to this engine: its lag is sampled from now on. */
    public void subscribed(io.eventsync.transport.Subscription subscription) {
        lag.watch(subscription);
    }

    /** The lag as last sampled (about once a second). */
    public io.eventsync.dispatch.CopyLag lag() {
        return lag.last();
    }

    /** Partitions with a backlog and no acknowledgement for {@code nanos}: partition to pending count. */
    public Map<String, Integer> stalledPartitions(long nanos) {
        return acks.stalled(nanos);
    }

    public Set<String> parkedKeys() {
        return parking.parkedKeys();
    }

    public int blockedOnDeadLetterStore() {
        return storeBlocked.get();
    }

    /** Deliveries taken and not yet applied, skipped or dead-lettered. */
    public int inFlight() {
        return inFlight.get();
    }

    public synchronized void close() {
        if (closing) {
            return;
        }
        closing = true;
        permits.release(s.maxInFlight()); // wakes transport threads blocked on backpressure; they see closing
        long deadline = System.nanoTime() + s.shutdownTimeout().toNanos();
        idleLock.lock();
        try {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    log.info("subscription {} closing with {} events unfinished after {} ms; they stay "
                            + "unacknowledged and will be delivered again", s.subscription(), inFlight.get(),
                            s.shutdownTimeout().toMillis());
                    break;
                }
                idle.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            idleLock.unlock();
        }
        stopping = true;
        Lane.Runner[] runners = new Lane.Runner[lanes.length];
        for (int i = 0; i < lanes.length; i++) {
            runners[i] = lanes[i].stop();
            Attempt a = runners[i] == null ? null : runners[i].attempt;
            if (a != null) {
                a.cancel();
            }
        }
        watchdog.stop();
        sweeper.shutdownNow();
        s.meterRegistry().remove(storeBlockedGauge);
        metrics.close();
        freshness.close();
        lag.close();
        releases.cancelAll();
        for (Lane.Runner runner : runners) {
            try {
                if (runner != null && !runner.join(TimeUnit.SECONDS.toMillis(5))) {
                    log.warn("lane thread {} did not stop within 5 s (its handler ignores interruption)",
                            runner.thread.getName());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
