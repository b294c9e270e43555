package io.eventsync.dispatch;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How fresh a copy (a subscription) is with respect to one source, from the heartbeats it applied.
 *
 * @param subscription the copy
 * @param source       the source service whose relay sent the heartbeats
 * @param freshness    now minus {@code sourceTime}: an upper bound on how stale the copy can be
 * @param sourceTime   the source time of the latest heartbeat applied, the oldest over the partitions
 *                     that received one (so one stuck partition shows)
 * @param lastApplied  when this consumer last applied a heartbeat of the source
 * @param partitions   how many partitions received a heartbeat of the source
 */
public record CopyFreshness(String subscription, String source, Duration freshness, Instant sourceTime,
                            Instant lastApplied, int partitions) {
    public CopyFreshness {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(freshness, "freshness");
        Objects.requireNonNull(sourceTime, "sourceTime");
        Objects.requireNonNull(lastApplied, "lastApplied");
    }
}
