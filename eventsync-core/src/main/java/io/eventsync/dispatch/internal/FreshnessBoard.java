package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeats a subscription applied, per source and partition, and the freshness they give:
 * now minus the oldest, over the partitions, of the latest heartbeat's source time. Recorded only
 * once a heartbeat is acknowledged (every earlier delivery of its partition is done), so a heartbeat
 * never claims a freshness the copy does not have. Gauge {@code eventsync.copy.freshness} (seconds,
 * tags subscription and source) per source, registered with its first heartbeat: a meter only for a
 * source that really sends them.
 */
final class FreshnessBoard {
    private static final Logger log = LoggerFactory.getLogger(FreshnessBoard.class);
    /** How far a heartbeat's source time may be ahead of this clock (clock skew between hosts). */
    static final Duration MAX_AHEAD = Duration.ofMinutes(1);
    private final String subscription;
    private final Clock clock;
    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, SourceTrack> sources = new ConcurrentHashMap<>();

    FreshnessBoard(String subscription, Clock clock, MeterRegistry registry) {
        this.subscription = subscription;
        this.clock = clock;
        this.registry = registry;
    }

    /** A heartbeat was acknowledged on {@code partition}. */
    void applied(Heartbeat heartbeat, String partition) {
        Instant sourceTime = Heartbeats.sourceTime(heartbeat);
        if (sourceTime.isAfter(clock.instant().plus(MAX_AHEAD))) {
            // A forged or broken heartbeat from the future would pin the partition's freshness at zero.
            log.warn("ignoring a heartbeat of source {} on partition {} dated {}, more than {} ahead of this"
                    + " clock", heartbeat.getSource(), partition, sourceTime, MAX_AHEAD);
            return;
        }
        SourceTrack track = sources.computeIfAbsent(heartbeat.getSource(), SourceTrack::new);
        // A redelivered (older) heartbeat never moves a partition's time back.
        track.byPartition.merge(partition, sourceTime, (a, b) -> a.isAfter(b) ? a : b);
        track.lastApplied = clock.instant();
        track.changed = true;
    }

    /** Forgets partitions this consumer gave up (rebalance): they would otherwise look staler forever. */
    void release(java.util.Collection<String> partitions) {
        for (SourceTrack track : sources.values()) {
            partitions.forEach(track.byPartition::remove);
        }
    }

    /** Freshness per source, by source name. */
    Map<String, CopyFreshness> snapshot() {
        Instant now = clock.instant();
        Map<String, CopyFreshness> out = new TreeMap<>();
        sources.forEach((source, track) -> {
            CopyFreshness f = track.freshness(now);
            if (f != null) {
                out.put(source, f);
            }
        });
        return out;
    }

    /** The sources that applied a heartbeat since the last call, with their freshness now. */
    List<CopyFreshness> changed() {
        Instant now = clock.instant();
        List<CopyFreshness> out = new ArrayList<>();
        for (SourceTrack track : sources.values()) {
            if (!track.changed) {
                continue;
            }
            track.changed = false; // first: a heartbeat applied while computing sets it again
            CopyFreshness f = track.freshness(now);
            if (f != null) {
                out.add(f);
            } else {
                track.changed = true;
            }
        }
        return out;
    }

    /** Removes the gauges, which point at this board; counters of a later dispatcher start afresh. */
    void close() {
        sources.values().forEach(t -> registry.remove(t.gauge));
    }

    private final class SourceTrack {
        final String source;
        final ConcurrentHashMap<String, Instant> byPartition = new ConcurrentHashMap<>();
        final Gauge gauge;
        volatile Instant lastApplied;
        volatile boolean changed;

        SourceTrack(String source) {
            this.source = source;
            this.gauge = Gauge.builder("eventsync.copy.freshness", this, t -> t.seconds(clock.instant()))
                    .description("now minus the source time of the latest heartbeat the copy applied (oldest over"
                            + " partitions): an upper bound on how stale the copy is")
                    .baseUnit("seconds").tag("subscription", subscription).tag("source", source)
                    .strongReference(true).register(registry);
        }

        Instant oldest() {
            Instant oldest = null;
            for (Instant t : byPartition.values()) {
                if (oldest == null || t.isBefore(oldest)) {
                    oldest = t;
                }
            }
            return oldest;
        }

        double seconds(Instant now) {
            Instant oldest = oldest();
            return oldest == null ? Double.NaN : Math.max(0, Duration.between(oldest, now).toNanos() / 1e9);
        }

        /** Null while the track's first heartbeat is still being recorded. */
        CopyFreshness freshness(Instant now) {
            Instant oldest = oldest();
            Instant applied = lastApplied;
            if (oldest == null || applied == null) {
                return null;
            }
            Duration age = Duration.between(oldest, now);
            return new CopyFreshness(subscription, source, age.isNegative() ? Duration.ZERO : age, oldest,
                    applied, byPartition.size());
        }
    }
}
