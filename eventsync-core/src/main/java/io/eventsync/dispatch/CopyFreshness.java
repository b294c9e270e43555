package io.eventsync.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * How fresh a copy (a subscription) is with respect to one source, from the heartbeats it applied.
 *
 * @param subscription the copy
 * @param source       the source service whose relay sent the heartbeats
 * @param freshness    now minus {@code sourceTime}: an upper bound on how stale the copy can be
 * @param sourceTime   the oldest over the partitions of {@link PartitionFreshness#sourceTime()} (so one stuck
 *                     partition shows, also one still waiting for its first heartbeat)
 * @param lastApplied  when this consumer last applied a heartbeat of the source; null while every partition
 *                     still awaits its first one
 * @param partitions   how many partitions count (the size of {@code byPartition})
 * @param byPartition  each partition this consumer owns that received a heartbeat of the source or, once a
 *                     heartbeat of the source was delivered here, anything from it; by partition name
 */
public record CopyFreshness(String subscription, String source, Duration freshness, Instant sourceTime,
                            Instant lastApplied, int partitions, List<PartitionFreshness> byPartition) {
    public CopyFreshness {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(freshness, "freshness");
        Objects.requireNonNull(sourceTime, "sourceTime");
        byPartition = List.copyOf(byPartition);
    }

    /** Partitions that wait for their first heartbeat: their freshness counts from when they were first seen. */
    public long awaitingHeartbeat() {
        return byPartition.stream().filter(PartitionFreshness::awaitingHeartbeat).count();
    }
}
