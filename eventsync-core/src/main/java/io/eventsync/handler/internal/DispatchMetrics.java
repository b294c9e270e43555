package io.eventsync.handler.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The dispatcher's meters, tagged by subscription and payload type, looked up once per type (not per
 * event). Names: {@code eventsync.dispatcher.{applied,skipped,retried,timed_out,abandoned,dead_lettered}},
 * {@code eventsync.handler.duration}, {@code eventsync.handler.degraded} (1 once a handler was abandoned).
 */
final class DispatchMetrics {
    private final MeterRegistry registry;
    private final String subscription;
    private final ConcurrentHashMap<String, TypeMeters> byType = new ConcurrentHashMap<>();

    DispatchMetrics(MeterRegistry registry, String subscription) {
        this.registry = registry;
        this.subscription = subscription;
    }

    TypeMeters of(String type) {
        TypeMeters meters = byType.get(type);
        return meters != null ? meters : byType.computeIfAbsent(type, TypeMeters::new);
    }

    /**
     * Removes the gauges, which point at this dispatcher's state: a dispatcher built later for the same
     * subscription (a restart) registers its own. Counters are shared by name and tags and stay.
     */
    void close() {
        byType.values().forEach(m -> registry.remove(m.degradedGauge));
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
            this.tags = Tags.of("subscription", subscription, "type", type.isEmpty() ? "unknown" : type);
            this.applied = registry.counter("eventsync.dispatcher.applied", tags);
            this.skipped = registry.counter("eventsync.dispatcher.skipped", tags);
            this.retried = registry.counter("eventsync.dispatcher.retried", tags);
            this.timedOut = registry.counter("eventsync.dispatcher.timed_out", tags);
            this.abandoned = registry.counter("eventsync.dispatcher.abandoned", tags);
            this.duration = Timer.builder("eventsync.handler.duration").tags(tags).register(registry);
            this.degradedGauge = Gauge.builder("eventsync.handler.degraded", degraded, AtomicInteger::get)
                    .tags(tags).strongReference(true).register(registry);
        }

        /** {@code reason}: undecodable, unknown_type, invalid, rejected, permanent, exhausted. */
        void deadLettered(String reason) {
            deadLettered.computeIfAbsent(reason,
                    r -> registry.counter("eventsync.dispatcher.dead_lettered", tags.and("reason", r))).increment();
        }
    }
}
