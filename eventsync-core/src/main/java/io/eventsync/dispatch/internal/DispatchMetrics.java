package io.eventsync.dispatch.internal;

import io.eventsync.handler.HandlerRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dispatcher's meters, tagged by subscription and payload type, looked up once per type (not per
 * event). Names: {@code eventsync.dispatcher.{applied,skipped,retried,timed_out,abandoned,dead_lettered}},
 * {@code eventsync.handler.duration}, {@code eventsync.handler.degraded} (1 once a handler was abandoned);
 * per subscription {@code eventsync.dispatcher.batch.size} (events per committed batch),
 * {@code eventsync.dispatcher.batch.duration}, {@code eventsync.dispatcher.batch.fallbacks} (batches
 * that did not commit, whose events were then applied one at a time) and
 * {@code eventsync.dispatcher.batch.duplicates} (a redelivered copy in the same batch as its event).
 *
 * <p>Only the types a handler is registered for get meters of their own; every other type string that
 * arrives off the wire (unknown, misspelled, random bytes decoded as a name) is counted under the one
 * tag {@code type=unknown}. A type tag per wire string would let any producer create meters without
 * bound, and a meter, once registered, lives as long as the registry.
 */
final class DispatchMetrics {
    static final String UNKNOWN = "unknown";

    private final MeterRegistry registry;
    private final String subscription;
    private final Set<String> registered;
    private final ConcurrentHashMap<String, TypeMeters> byType = new ConcurrentHashMap<>();
    private volatile TypeMeters unknown;
    private final DistributionSummary batchSize;
    private final Timer batchDuration;
    private final Counter batchFallbacks;
    private final Counter batchDuplicates;

    DispatchMetrics(MeterRegistry registry, String subscription, HandlerRegistry handlers) {
        this.registry = registry;
        this.subscription = subscription;
        this.registered = Set.copyOf(handlers.registrations().keySet());
        this.batchSize = DistributionSummary.builder("eventsync.dispatcher.batch.size")
                .description("events per committed batch").tag("subscription", subscription).register(registry);
        this.batchDuration = Timer.builder("eventsync.dispatcher.batch.duration")
                .description("one batch's unit of work, handlers and commit included").tag("subscription", subscription)
                .register(registry);
        this.batchFallbacks = Counter.builder("eventsync.dispatcher.batch.fallbacks")
                .description("batches that did not commit; their events were applied one at a time")
                .tag("subscription", subscription).register(registry);
        this.batchDuplicates = Counter.builder("eventsync.dispatcher.batch.duplicates")
                .description("redelivered copies of an event that came in the same batch as the event (skipped)")
                .tag("subscription", subscription).register(registry);
    }

    void batchDuplicate() {
        batchDuplicates.increment();
    }

    void batch(int size, long nanos) {
        batchSize.record(size);
        batchDuration.record(nanos, TimeUnit.NANOSECONDS);
    }

    void batchFallback() {
        batchFallbacks.increment();
    }

    TypeMeters of(String type) {
        TypeMeters meters = byType.get(type);
        if (meters != null) {
            return meters;
        }
        return registered.contains(type) ? byType.computeIfAbsent(type, TypeMeters::new) : unknown();
    }

    private TypeMeters unknown() {
        TypeMeters m = unknown;
        if (m == null) {
            synchronized (this) {
                m = unknown;
                if (m == null) {
                    m = new TypeMeters(UNKNOWN);
                    unknown = m;
                }
            }
        }
        return m;
    }

    /**
     * Removes the gauges, which point at this dispatcher's state: a dispatcher built later for the same
     * subscription (a restart) registers its own. Counters are shared by name and tags and stay.
     */
    void close() {
        byType.values().forEach(m -> registry.remove(m.degradedGauge));
        TypeMeters u = unknown;
        if (u != null) {
            registry.remove(u.degradedGauge);
        }
    }

    /** Meters of one payload type. */
    final class TypeMeters {
        private final Tags tags;
        final Counter applied;
        final Counter skipped;
        final Counter retried;
        final Counter timedOut;
        final Counter abandoned;
        final Timer duration;
        final AtomicInteger degraded = new AtomicInteger();
        private final Gauge degradedGauge;
        private final ConcurrentHashMap<String, Counter> deadLettered = new ConcurrentHashMap<>();

        private TypeMeters(String type) {
            this.tags = Tags.of("subscription", subscription, "type", type.isEmpty() ? UNKNOWN : type);
            this.applied = registry.counter("eventsync.dispatcher.applied", tags);
            this.skipped = registry.counter("eventsync.dispatcher.skipped", tags);
            this.retried = registry.counter("eventsync.dispatcher.retried", tags);
            this.timedOut = registry.counter("eventsync.dispatcher.timed_out", tags);
            this.abandoned = registry.counter("eventsync.dispatcher.abandoned", tags);
            this.duration = Timer.builder("eventsync.handler.duration").tags(tags).register(registry);
            this.degradedGauge = Gauge.builder("eventsync.handler.degraded", degraded, AtomicInteger::get)
                    .tags(tags).strongReference(true).register(registry);
        }

        /** {@code reason}: a {@link DeadLetterReason} label. */
        void deadLettered(String reason) {
            deadLettered.computeIfAbsent(reason,
                    r -> registry.counter("eventsync.dispatcher.dead_lettered", tags.and("reason", r))).increment();
        }
    }
}
