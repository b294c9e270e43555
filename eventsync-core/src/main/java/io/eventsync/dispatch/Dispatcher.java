package io.eventsync.dispatch;

import io.eventsync.ConfigException;
import io.eventsync.dispatch.internal.DispatchEngine;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.DeadLetterPolicy;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.internal.Tracing;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Runs the handlers of one subscription: decodes and validates each delivery, routes it to its
 * key's lane (per-key order, keys in parallel across lanes), invokes the handler inside the
 * {@link ApplyScope} with timeout, cancellation and abandonment, retries transient failures,
 * dead-letters permanent ones (parking the key), and acknowledges offsets only when they and every
 * earlier offset of their partition are done.
 *
 * <p>Build with {@link #builder(String)}; pass it to {@code Transport.subscribe} as the
 * {@link DeliveryHandler}; close it to stop. Threads: {@code eventsync-<subscription>-lane-<n>} (one per
 * lane, replaced when a handler is abandoned) and {@code eventsync-<subscription>-watchdog}.
 */
public final class Dispatcher implements DeliveryHandler, AutoCloseable {
    /** {@link Builder#maxBatch}'s default. */
    public static final int DEFAULT_MAX_BATCH = 256;
    /** {@link Builder#maxBatchBytes}'s default: 4 MiB. */
    public static final long DEFAULT_MAX_BATCH_BYTES = 4L << 20;

    /** Twice the number of processors, at least 2 (at most 1,024): see {@link Builder#applyConcurrency}. */
    public static int defaultApplyConcurrency() {
        return Math.min(1024, Math.max(2, 2 * Runtime.getRuntime().availableProcessors()));
    }

    private final String subscription;
    private final DeadLetterStore deadLetters;
    private final DispatchEngine engine;
    /** Subscriptions whose transport reported they stopped for good, with the reason (shown by {@link #health}). */
    private final Map<SubscriptionSpec, String> stopped = new java.util.concurrent.ConcurrentHashMap<>();

    private Dispatcher(String subscription, DeadLetterStore deadLetters, DispatchEngine engine) {
        this.subscription = subscription;
        this.deadLetters = deadLetters;
        this.engine = engine;
    }

    public static Builder builder(String subscription) {
        return new Builder(subscription);
    }

    /**
     * Takes one delivery. Blocks while {@code maxInFlight} events are unfinished (backpressure). After
     * {@link #close()} it returns at once without acknowledging, so the event is delivered again.
     */
    @Override
    public void onDelivery(Delivery delivery) throws InterruptedException {
        engine.onDelivery(delivery);
    }

    /** Asks {@code subscription} for its lag from now on (see {@link #lag()}); transports call it on subscribe. */
    @Override
    public void onSubscribed(io.eventsync.transport.Subscription subscription) {
        engine.subscribed(subscription);
    }

    /**
     * How many events this copy has still to apply on the partitions this consumer owns, as measured about
     * once a second: per partition, what the transport says is not yet acknowledged (delivered and in flight
     * plus still at the broker), and where it cannot tell ({@link CopyLag#fromTransport()} false), only the
     * deliveries this dispatcher holds. Gauge {@code eventsync.copy.lag} (the sum, tag subscription).
     */
    public CopyLag lag() {
        return engine.lag();
    }

    /** Forgets the released partitions' heartbeats: freshness is then over the partitions this consumer owns. */
    @Override
    public void onPartitionsReleased(java.util.Collection<String> partitions) {
        engine.partitionsReleased(partitions);
    }

    /** Keeps the reason, so that {@link #health} is unhealthy and says why until the subscription recovers. */
    @Override
    public void onSubscriptionFailed(SubscriptionSpec spec, Exception failure) {
        stopped.put(spec, failure.getMessage() == null ? failure.toString() : failure.getMessage());
    }

    @Override
    public void onSubscriptionRecovered(SubscriptionSpec spec) {
        stopped.remove(spec);
    }

    /**
     * Re-runs a FAILED dead letter through the normal apply path (with retries), in its key's order:
     * on success it is removed and the key's HELD letters are released, in order, the same way; a
     * letter that fails again becomes the key's FAILED letter in place and the rest stay held. The key
     * is unparked only when none of its letters remain; events arriving meanwhile wait behind.
     * While a letter is re-applied, its {@link Invocation#partition()} is {@code "dead-letters"} and its
     * {@link Invocation#offset()} is {@code -1}: an apply scope records no transport position for it.
     *
     * @return completes with true when the key has no letter left, false when one failed again (or the
     *         letter was already gone)
     * @throws IllegalArgumentException if there is no such letter in this subscription
     * @throws IllegalStateException if the letter is HELD (replay the key's FAILED letter instead)
     */
    public CompletableFuture<Boolean> replay(String deadLetterId) {
        return engine.release(deadLetterId, true);
    }

    /** Drops a FAILED dead letter and releases the key's held events in order, as {@link #replay} does. */
    public CompletableFuture<Boolean> discard(String deadLetterId) {
        return engine.release(deadLetterId, false);
    }

    public String subscription() {
        return subscription;
    }

    /** Where this dispatcher keeps its dead letters. */
    public DeadLetterStore deadLetters() {
        return deadLetters;
    }

    /**
     * Keys whose events are currently held behind a dead letter, as the dead-letter store says (so it
     * includes keys parked by other instances of the subscription); one store query.
     */
    public Set<String> parkedKeys() {
        return engine.parkedKeys();
    }

    /** Payload types whose handler was abandoned at least once (gauge {@code eventsync.handler.degraded}). */
    public Set<String> degradedTypes() {
        return engine.degradedTypes();
    }

    /**
     * Events waiting because the dead-letter store could not be written (gauge
     * {@code eventsync.dead_letters.store_blocked}); above zero, their partitions' acknowledgements wait.
     */
    public int blockedOnDeadLetterStore() {
        return engine.blockedOnDeadLetterStore();
    }

    /** Deliveries taken and not yet applied, skipped or dead-lettered. */
    public int inFlight() {
        return engine.inFlight();
    }

    /**
     * How fresh this copy is, per source whose relay sends heartbeats (by source name; empty until the
     * first heartbeat is delivered): now minus the source time of the latest heartbeat applied, the oldest
     * over the partitions this consumer owns, per partition in {@link CopyFreshness#byPartition()}. A
     * partition that delivered something but had no heartbeat applied yet counts from when it was first
     * seen, so a partition stuck since start shows. Gauge {@code eventsync.copy.freshness}.
     */
    public Map<String, CopyFreshness> freshness() {
        return engine.freshness();
    }

    /**
     * Unhealthy, with a reason each, when a source's {@link #freshness()} is over {@code maxFreshness},
     * or a partition has deliveries waiting and acknowledged none for {@code maxFreshness} (a stuck
     * pipeline must not look healthy), or when a subscription feeding it reported that it stopped
     * ({@link #onSubscriptionFailed}). A source that never sent a heartbeat is not judged; for one that
     * does, a partition that delivered something but had no heartbeat applied yet counts from when it was
     * first seen.
     */
    public CopyHealth health(Duration maxFreshness) {
        if (maxFreshness == null || maxFreshness.isNegative() || maxFreshness.isZero()) {
            throw new IllegalArgumentException("maxFreshness must be positive, but was " + maxFreshness);
        }
        List<String> reasons = new ArrayList<>();
        stopped.forEach((spec, reason) -> reasons.add("subscription " + spec.topic() + "/" + spec.group()
                + " stopped: " + reason));
        for (CopyFreshness f : engine.freshness().values()) {
            if (f.freshness().compareTo(maxFreshness) > 0) {
                long awaiting = f.awaitingHeartbeat();
                reasons.add("source " + f.source() + " is " + f.freshness().toMillis() + " ms behind ("
                        + (f.lastApplied() == null ? "no heartbeat applied yet" : "last heartbeat applied at " + f.lastApplied())
                        + (awaiting == 0 ? "" : "; " + awaiting + " partition(s) still await their first heartbeat")
                        + "), over the " + maxFreshness.toMillis() + " ms allowed");
            }
        }
        engine.stalledPartitions(maxFreshness.toNanos()).forEach((partition, pending) -> reasons.add("partition "
                + partition + " has " + pending + " deliveries waiting and acknowledged none for over "
                + maxFreshness.toMillis() + " ms"));
        return new CopyHealth(subscription, reasons.isEmpty(), reasons);
    }

    /**
     * Stops taking deliveries, lets those in flight finish for up to {@code shutdownTimeout}, then
     * cancels the rest (they stay unacknowledged and are delivered again) and stops every thread it owns.
     * Close the transport's subscription first so no new deliveries arrive.
     */
    @Override
    public void close() {
        engine.close();
    }

    @Override
    public String toString() {
        return "Dispatcher{" + subscription + "}";
    }

    public static final class Builder {
        private final String subscription;
        private HandlerRegistry handlers;
        private TypeRegistry types;
        private EnvelopeCodec codec;
        private EnvelopeValidator validator;
        private ApplyScope scope = ApplyScope.DIRECT;
        private DeadLetterStore deadLetters;
        private int lanes = Math.max(2, Runtime.getRuntime().availableProcessors());
        private int maxInFlight = 10_000;
        private int maxBatch = DEFAULT_MAX_BATCH;
        private long maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private int applyConcurrency = defaultApplyConcurrency();
        private UnknownTypePolicy unknownTypePolicy = UnknownTypePolicy.DEAD_LETTER;
        private DeadLetterPolicy unknownTypeDeadLetterPolicy = DeadLetterPolicy.PARK_KEY;
        private MeterRegistry meterRegistry = Metrics.globalRegistry;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private Clock clock = Clock.systemUTC();
        private Consumer<List<Envelope>> followUps;
        private Consumer<CopyFreshness> freshnessListener;
        private boolean tracing = true;

        private Builder(String subscription) {
            this.subscription = subscription;
        }

        /** Required: the handlers of this subscription, one per payload type. */
        public Builder handlers(HandlerRegistry handlers) {
            this.handlers = handlers;
            return this;
        }

        /** Required: the payload types; every handled type must be in it. */
        public Builder types(TypeRegistry types) {
            this.types = types;
            return this;
        }

        /** Default {@link EnvelopeCodec#defaults()}. */
        public Builder codec(EnvelopeCodec codec) {
            this.codec = codec;
            return this;
        }

        /** Default {@link EnvelopeValidator#defaults()}. */
        public Builder validator(EnvelopeValidator validator) {
            this.validator = validator;
            return this;
        }

        /** The unit of work around each invocation; default {@link ApplyScope#DIRECT}. */
        public Builder applyScope(ApplyScope scope) {
            this.scope = scope;
            return this;
        }

        /** Default a new {@link InMemoryDeadLetters}. Parked keys are restored from it at build. */
        public Builder deadLetters(DeadLetterStore store) {
            this.deadLetters = store;
            return this;
        }

        /**
         * At most this many events (waiting at the same moment on one lane; a key's events together and in
         * order, so a hot key's backlog is batched too) go to the apply
         * scope as one unit of work, when the scope applies batches ({@link ApplyScope#batches()}; the JDBC
         * scope does, with its dead-letter store). Default {@value #DEFAULT_MAX_BATCH}; 1 applies every event
         * alone. A lane never waits to fill a batch: a lone event goes at once, and batches grow with the
         * backlog. Inside a batch every event keeps its own guarantees: when anything in it fails, nothing of
         * it is committed and its events are applied one at a time.
         */
        public Builder maxBatch(int maxBatch) {
            this.maxBatch = maxBatch;
            return this;
        }

        /** At most this many serialized envelope bytes per batch (a first event larger goes alone); default 4 MiB. */
        public Builder maxBatchBytes(long maxBatchBytes) {
            this.maxBatchBytes = maxBatchBytes;
            return this;
        }

        /**
         * When the scope applies batches: at most this many lanes apply at the same time; default twice the
         * number of processors, at least 2 ({@link #defaultApplyConcurrency()}), which limits only more lanes
         * than that (the default lanes, the processor count, are not limited; pipeline files and Spring default
         * to 8 lanes, limited on fewer than 4 processors). The lanes that wait for
         * their turn keep gathering events, so under a backlog the database sees fewer, larger transactions
         * (with 8 lanes on 2 cores, each lane otherwise commits a few events at a time and a PostgreSQL copy
         * drained a backlog at half the rate); at low load a turn is free and nothing waits. Raise it (up to
         * {@link #lanes}, which removes the limit) for handlers that mostly wait on something other than the
         * database. Without batching there is no limit.
         */
        public Builder applyConcurrency(int applyConcurrency) {
            this.applyConcurrency = applyConcurrency;
            return this;
        }

        /** Parallel lanes (keys are hashed to lanes); default the number of processors, at least 2. */
        public Builder lanes(int lanes) {
            this.lanes = lanes;
            return this;
        }

        /** Unfinished deliveries at most; beyond it {@link #onDelivery} blocks. Default 10,000. */
        public Builder maxInFlight(int maxInFlight) {
            this.maxInFlight = maxInFlight;
            return this;
        }

        /** What to do with an event whose type has no handler; default {@link UnknownTypePolicy#DEAD_LETTER}. */
        public Builder unknownTypePolicy(UnknownTypePolicy policy) {
            this.unknownTypePolicy = policy;
            return this;
        }

        /** Whether a dead-lettered event of an unknown type parks its key; default {@link DeadLetterPolicy#PARK_KEY}. */
        public Builder unknownTypeDeadLetterPolicy(DeadLetterPolicy policy) {
            this.unknownTypeDeadLetterPolicy = policy;
            return this;
        }

        /** Default {@link Metrics#globalRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /** How long {@link #close()} lets in-flight events finish; default 10 s. */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = timeout;
            return this;
        }

        /** The clock of deadlines and dead-letter times; default UTC system clock. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * Receives the follow-up events a handler emitted, after its outcome was Applied, in order. Meant
         * for {@link ApplyScope#DIRECT}: a transactional scope (the JDBC apply path) writes them to its own
         * outbox instead, so leave this unset there. A failure here is a transient failure of the event.
         */
        public Builder followUps(Consumer<List<Envelope>> sink) {
            this.followUps = sink;
            return this;
        }

        /**
         * Receives the freshness of each source that applied a heartbeat, at most once a second per
         * source, on the dispatcher's own thread (e.g. {@code FreshnessTable::record} to let other
         * processes read it). A failure is logged and tried again with the next heartbeat. Default none.
         */
        public Builder freshnessListener(Consumer<CopyFreshness> listener) {
            this.freshnessListener = listener;
            return this;
        }

        /**
         * Whether each attempt to apply a traced event (one whose envelope has a {@code traceparent}) is
         * an OpenTelemetry CONSUMER span, child of the relay's PRODUCER span and current while the apply
         * scope and the handler run. Default true; it takes effect only when the OpenTelemetry API is on
         * the class path and an SDK (or the agent) is installed as {@code GlobalOpenTelemetry}. Not
         * applied to {@link ApplyScope#DIRECT} without {@link #followUps}: the dispatcher recognizes
         * that scope by identity to refuse follow-ups that would have nowhere to go.
         */
        public Builder tracing(boolean enabled) {
            this.tracing = enabled;
            return this;
        }

        public Dispatcher build() {
            if (subscription == null || subscription.isBlank()) {
                throw new ConfigException("dispatcher subscription must not be blank, but was '" + subscription + "'");
            }
            if (handlers == null) {
                throw new ConfigException("dispatcher handlers must be set (HandlerRegistry), but was null");
            }
            if (types == null) {
                throw new ConfigException("dispatcher types must be set (TypeRegistry), but was null");
            }
            for (String type : handlers.registrations().keySet()) {
                if (types.find(type).isEmpty()) {
                    throw new ConfigException("dispatcher types does not contain " + type + ", which has a handler on "
                            + "subscription " + subscription + "; add it to the TypeRegistry");
                }
            }
            if (lanes < 1 || lanes > 1024) {
                throw new ConfigException("dispatcher lanes must be 1..1024, but was " + lanes);
            }
            if (maxInFlight < 1 || maxInFlight > 10_000_000) {
                throw new ConfigException("dispatcher maxInFlight must be 1..10,000,000, but was " + maxInFlight);
            }
            if (maxBatch < 1 || maxBatch > 10_000) {
                throw new ConfigException("dispatcher maxBatch must be 1..10,000, but was " + maxBatch);
            }
            if (applyConcurrency < 1 || applyConcurrency > 1024) {
                throw new ConfigException("dispatcher applyConcurrency must be 1..1024, but was " + applyConcurrency);
            }
            if (maxBatchBytes < 1) {
                throw new ConfigException("dispatcher maxBatchBytes must be >= 1, but was " + maxBatchBytes);
            }
            if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
                throw new ConfigException("dispatcher shutdownTimeout must be >= 0, but was " + shutdownTimeout);
            }
            Objects.requireNonNull(scope, "applyScope");
            Objects.requireNonNull(unknownTypePolicy, "unknownTypePolicy");
            Objects.requireNonNull(unknownTypeDeadLetterPolicy, "unknownTypeDeadLetterPolicy");
            Objects.requireNonNull(meterRegistry, "meterRegistry");
            Objects.requireNonNull(clock, "clock");
            DeadLetterStore store = deadLetters != null ? deadLetters : new InMemoryDeadLetters();
            boolean traced = tracing && !(scope == ApplyScope.DIRECT && followUps == null);
            DispatchEngine engine = new DispatchEngine(new DispatchEngine.Settings(subscription, handlers, types,
                    codec != null ? codec : EnvelopeCodec.defaults(),
                    validator != null ? validator : EnvelopeValidator.defaults(),
                    traced ? Tracing.consumer(scope) : scope, store, lanes, maxInFlight,
                    unknownTypePolicy == UnknownTypePolicy.SKIP, unknownTypeDeadLetterPolicy, meterRegistry,
                    shutdownTimeout, clock, followUps, freshnessListener, maxBatch, maxBatchBytes, applyConcurrency));
            return new Dispatcher(subscription, store, engine);
        }
    }

    /** What happens to an event whose payload type has no handler on this subscription. */
    public enum UnknownTypePolicy { DEAD_LETTER, SKIP }
}
