package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.PartitionFreshness;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeats a subscription applied, per source and partition, and the freshness they give:
 * now minus the oldest, over the partitions, of the latest heartbeat's source time. Recorded only
 * once a heartbeat is acknowledged (every earlier delivery of its partition is done), so a heartbeat
 * never claims a freshness the copy does not have.
 *
 * <p>A partition that delivered something but has not had a heartbeat applied yet (stuck on its first
 * event since this consumer started, say) counts from the moment it was first seen: without that, the
 * partitions that do apply heartbeats would make the copy look fresh. It counts only for a source known
 * to send heartbeats (one of its heartbeats was delivered here, on any partition), so that a source
 * whose relay sends none does not age forever. Released partitions (rebalance) stop counting.
 *
 * <p>Gauge {@code eventsync.copy.freshness} (seconds, tags subscription and source) per source,
 * registered with its first heartbeat delivered: a meter only for a source that really sends them.
 */
final class FreshnessBoard {
    private static final Logger log = LoggerFactory.getLogger(FreshnessBoard.class);
    /** How far a heartbeat's source time may be ahead of this clock (clock skew between hosts). */
    static final Duration MAX_AHEAD = Duration.ofMinutes(1);
    private final String subscription;
    private final Clock clock;
    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, SourceTrack> sources = new ConcurrentHashMap<>();
    /** A partition's lag in events, or null when unknown; reported beside its freshness. */
    private final Function<String, Long> lagOf;

    FreshnessBoard(String subscription, Clock clock, MeterRegistry registry) {
        this(subscription, clock, registry, partition -> null);
    }

    FreshnessBoard(String subscription, Clock clock, MeterRegistry registry, Function<String, Long> lagOf) {
        this.subscription = subscription;
        this.clock = clock;
        this.registry = registry;
        this.lagOf = lagOf;
    }

    /**
     * Something of {@code source} arrived on {@code partition} (a transport thread, for every decoded
     * delivery): a partition new to the source starts to count from now. Two map reads when nothing is new.
     */
    void delivered(String source, String partition, boolean heartbeat) {
        SourceTrack track = sources.get(source);
        if (track == null) {
            track = sources.computeIfAbsent(source, SourceTrack::new);
        }
        if (heartbeat && !track.sendsHeartbeats) {
            track.startGauge();
        }
        if (!track.byPartition.containsKey(partition)) {
            PartitionFreshness seen = new PartitionFreshness(partition, clock.instant(), null, null);
            if (track.byPartition.putIfAbsent(partition, seen) == null && track.sendsHeartbeats) {
                track.changed = true;
            }
        }
    }

    /** A heartbeat was acknowledged on {@code partition}. */
    void applied(Heartbeat heartbeat, String partition) {
        Instant sourceTime = Heartbeats.sourceTime(heartbeat);
        Instant now = clock.instant();
        if (sourceTime.isAfter(now.plus(MAX_AHEAD))) {
            // A forged or broken heartbeat from the future would pin the partition's freshness at zero.
            log.warn("ignoring a heartbeat of source {} on partition {} dated {}, more than {} ahead of this"
                    + " clock", heartbeat.getSource(), partition, sourceTime, MAX_AHEAD);
            return;
        }
        SourceTrack track = sources.computeIfAbsent(heartbeat.getSource(), SourceTrack::new);
        track.startGauge();
        PartitionFreshness beat = new PartitionFreshness(partition, sourceTime, now, null);
        // A redelivered (older) heartbeat never moves a partition's time back; the time a partition was
        // first seen (a consumer's clock, only a stand-in) is replaced by its first heartbeat's source time.
        track.byPartition.merge(partition, beat, (old, b) -> old.awaitingHeartbeat() || b.sourceTime().isAfter(old.sourceTime())
                ? b : old);
        track.lastApplied = now;
        track.changed = true;
    }

    /** Forgets partitions this consumer gave up (rebalance): they would otherwise look staler forever. */
    void release(Collection<String> partitions) {
        for (SourceTrack track : sources.values()) {
            partitions.forEach(track.byPartition::remove);
        }
    }

    /** Freshness per source that sends heartbeats, by source name. */
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

    /**
     * The sources whose partitions changed since the last call (a heartbeat applied, a partition first
     * seen), with their freshness now.
     */
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
            }
        }
        return out;
    }

    /** Removes the gauges, which point at this board; counters of a later dispatcher start afresh. */
    void close() {
        sources.values().forEach(SourceTrack::stopGauge);
    }

    private final class SourceTrack {
        final String source;
        final ConcurrentHashMap<String, PartitionFreshness> byPartition = new ConcurrentHashMap<>();
        /** Set once, with the gauge: a heartbeat of the source was delivered here. */
        volatile boolean sendsHeartbeats;
        private Gauge gauge; // guarded by this
        private boolean closed; // guarded by this
        volatile Instant lastApplied;
        volatile boolean changed;

        SourceTrack(String source) {
            this.source = source;
        }

        synchronized void startGauge() {
            if (gauge != null || closed) {
                return;
            }
            gauge = Gauge.builder("eventsync.copy.freshness", this, t -> t.seconds(clock.instant()))
                    .description("now minus the source time of the latest heartbeat the copy applied (oldest over"
                            + " partitions; a partition without one yet counts from when it was first seen): an"
                            + " upper bound on how stale the copy is")
                    .baseUnit("seconds").tag("subscription", subscription).tag("source", source)
                    .strongReference(true).register(registry);
            sendsHeartbeats = true;
            changed = true; // partitions seen before the first heartbeat now count
        }

        synchronized void stopGauge() {
            closed = true;
            if (gauge != null) {
                registry.remove(gauge);
            }
        }

        Instant oldest() {
            Instant oldest = null;
            for (PartitionFreshness p : byPartition.values()) {
                if (oldest == null || p.sourceTime().isBefore(oldest)) {
                    oldest = p.sourceTime();
                }
            }
            return oldest;
        }

        double seconds(Instant now) {
            Instant oldest = oldest();
            return oldest == null ? Double.NaN : Math.max(0, Duration.between(oldest, now).toNanos() / 1e9);
        }

        /** Null for a source not known to send heartbeats, or with no partition owned here any more. */
        CopyFreshness freshness(Instant now) {
            if (!sendsHeartbeats) {
                return null;
            }
            List<PartitionFreshness> partitions = new ArrayList<>(byPartition.values());
            if (partitions.isEmpty()) {
                return null;
            }
            partitions.sort(java.util.Comparator.comparing(PartitionFreshness::partition));
            partitions.replaceAll(p -> new PartitionFreshness(p.partition(), p.sourceTime(), p.lastApplied(),
                    lagOf.apply(p.partition())));
            Instant oldest = partitions.get(0).sourceTime();
            for (PartitionFreshness p : partitions) {
                if (p.sourceTime().isBefore(oldest)) {
                    oldest = p.sourceTime();
                }
            }
            Duration age = Duration.between(oldest, now);
            return new CopyFreshness(subscription, source, age.isNegative() ? Duration.ZERO : age, oldest,
                    lastApplied, partitions.size(), partitions);
        }
    }
}
