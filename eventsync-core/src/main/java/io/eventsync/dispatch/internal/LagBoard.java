package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.CopyLag;
import io.eventsync.transport.Subscription;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A subscription's lag in events, sampled about once a second off the delivery path: per partition, what
 * the transport says is not yet acknowledged ({@link Subscription#lag()}), never less than the deliveries
 * this dispatcher holds unacknowledged; only the latter where the transport cannot tell. Gauge
 * {@code eventsync.copy.lag} (events, tag subscription): the sum over the partitions this consumer owns,
 * so that summing the gauge over a group's instances gives the group's lag, with no meter per partition
 * to come and go on every rebalance.
 */
final class LagBoard {
    private static final Logger log = LoggerFactory.getLogger(LagBoard.class);
    private final String subscription;
    private final Clock clock;
    private final MeterRegistry registry;
    private final AckTracker acks;
    private final Gauge gauge;
    private volatile Subscription source;
    private volatile CopyLag last;
    private boolean warned; // sampling thread only

    LagBoard(String subscription, Clock clock, MeterRegistry registry, AckTracker acks) {
        this.subscription = subscription;
        this.clock = clock;
        this.registry = registry;
        this.acks = acks;
        this.last = new CopyLag(subscription, 0, Map.of(), false, clock.instant());
        this.gauge = Gauge.builder("eventsync.copy.lag", this, b -> b.last.events())
                .description("events not yet applied on the partitions this consumer owns: those it holds plus,"
                        + " where the transport tells, those still waiting at the broker")
                .baseUnit("events").tag("subscription", subscription).strongReference(true).register(registry);
    }

    /** The subscription to ask from now on. */
    void watch(Subscription subscription) {
        this.source = subscription;
    }

    /** Measures now; called from one thread. */
    CopyLag sample() {
        Map<String, Long> out = new TreeMap<>();
        acks.pendingByPartition().forEach((p, n) -> out.put(p, (long) n));
        Optional<Map<String, Long>> told = transportLag();
        told.ifPresent(m -> m.forEach((p, n) -> out.merge(p, Math.max(0, n), Math::max)));
        long sum = 0;
        for (long n : out.values()) {
            sum += n;
        }
        CopyLag lag = new CopyLag(subscription, sum, out, told.isPresent(), clock.instant());
        last = lag;
        return lag;
    }

    private Optional<Map<String, Long>> transportLag() {
        Subscription s = source;
        if (s == null) {
            return Optional.empty();
        }
        try {
            Optional<Map<String, Long>> lag = s.lag();
            warned = false;
            return lag == null ? Optional.empty() : lag;
        } catch (RuntimeException e) {
            // The contract says a transport reports failure as empty; one that throws still must not stop sampling.
            if (!warned) {
                log.warn("subscription {}: the transport failed to tell its lag; counting only deliveries held: {}",
                        subscription, e.toString());
                warned = true;
            }
            return Optional.empty();
        }
    }

    CopyLag last() {
        return last;
    }

    /** The partition's lag as last measured; null when it was not measured. */
    Long of(String partition) {
        return last.byPartition().get(partition);
    }

    void close() {
        registry.remove(gauge);
    }
}
