package io.eventsync.dispatch;

import java.util.Objects;
import java.time.Instant;

/**
 * How fresh one partition of a copy is with respect to one source.
 *
 * @param partition   the transport's stable name of the partition ({@code Delivery.partition()}), the same on
 *                    every consumer instance
 * @param sourceTime  the source time of the latest heartbeat applied on the partition; while none was
 *                    applied yet ({@code lastApplied} null), the time this consumer first received anything
 *                    on it, so that a partition stuck before its first heartbeat still ages
 * @param lastApplied when that heartbeat was applied; null while the partition awaits its first heartbeat
 * @param lag         events of the partition not yet acknowledged by this consumer (see {@code Dispatcher.lag()});
 *                    null when unknown
 */
public record PartitionFreshness(String partition, Instant sourceTime, Instant lastApplied, Long lag) {
    public PartitionFreshness {
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(sourceTime, "sourceTime");
    }

    /** True while no heartbeat was applied on the partition: {@link #sourceTime()} is then when it was first seen. */
    public boolean awaitingHeartbeat() {
        return lastApplied == null;
    }
}
