package io.eventsync.dispatch;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * How many events a copy (a subscription) has still to apply, on the partitions this consumer owns, as
 * last measured (about once a second).
 *
 * @param subscription  the copy
 * @param events        the sum over {@code byPartition}
 * @param byPartition   per partition: events not yet acknowledged, the deliveries this consumer holds plus,
 *                      when {@code fromTransport}, those the broker still has for it
 * @param fromTransport true when the transport told its count ({@code Subscription.lag()}); false when it
 *                      cannot, and the figure is only what this consumer holds in flight (a lower bound)
 * @param measuredAt    when it was measured
 */
public record CopyLag(String subscription, long events, Map<String, Long> byPartition, boolean fromTransport,
                      Instant measuredAt) {
    public CopyLag {
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(measuredAt, "measuredAt");
        byPartition = Map.copyOf(byPartition);
    }
}
