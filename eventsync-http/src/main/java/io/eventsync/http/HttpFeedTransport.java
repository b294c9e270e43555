package io.eventsync.http;

import io.eventsync.ConfigException;
import io.eventsync.http.internal.FeedPuller;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.DeliveryMode;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The consuming side of API synchronization: each subscription pulls a {@link FeedServer}'s feed
 * (long polling) from its stored position and hands the events to a {@link DeliveryHandler} — the
 * same dispatcher and apply path as every other transport.
 *
 * <p>Fan-out only: each group keeps its own position in its own database, and one puller per group
 * reads the whole topic in order. Competing consumers ({@link DeliveryMode#QUEUE}) would need the
 * server to hand out leases on ranges; use a broker for that.
 *
 * <p>When the feed no longer retains a subscription's position (410: the copy was stopped longer than the
 * source's log retention), the subscription follows its topic's {@link GonePolicy}: {@code FAIL} by
 * default (stop, log and report to the handler), or {@code REBOOTSTRAP} with a snapshot
 * ({@link Builder#rebootstrapWhenGone}, or {@link Bootstrap.Builder#onGone}).
 *
 * <p>There is no publisher: an HTTP feed serves what the source's relay appended to its embedded log;
 * events enter it through the source's outbox (or the embedded log transport's publisher), never
 * through the reading side.
 */
public final class HttpFeedTransport implements Transport {
    private final FeedClient client;
    private final PositionStore positions;
    private final int pageSize;
    private final Duration pollWait;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final MeterRegistry meters;
    /** Topic to the snapshot that re-bootstraps its subscriptions on a 410; a topic not here fails. */
    private final Map<String, String> rebootstrapSnapshots;
    private final Set<FeedPuller> pullers = ConcurrentHashMap.newKeySet();

    private HttpFeedTransport(Builder b) {
        this.client = b.client;
        this.positions = b.positions;
        this.pageSize = b.pageSize;
        this.pollWait = b.pollWait;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.meters = b.meters;
        this.rebootstrapSnapshots = Map.copyOf(b.rebootstrapSnapshots);
    }

    public static Builder builder(FeedClient client) {
        return new Builder(client);
    }

    @Override
    public String name() {
        return "http";
    }

    /** Always throws: see the class comment. */
    @Override
    public Publisher publisher(String topic) {
        throw new UnsupportedOperationException("the HTTP feed transport only reads: topic " + topic
                + " is served from the source's embedded log, so publish through the source's outbox"
                + " (or the embedded log transport's publisher) and pull here");
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        String snapshot = rebootstrapSnapshots.get(spec.topic());
        Bootstrap again = snapshot == null ? null : Bootstrap.builder(client, snapshot).group(spec.group())
                .positions(positions).maxBackoff(maxBackoff).build();
        return subscribe(spec, handler, again);
    }

    /** Subscribes; a 410 runs {@code again} (null: the subscription stops and reports it). */
    Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler, Bootstrap again) {
        if (spec.mode() != DeliveryMode.FANOUT) {
            throw new ConfigException("mode " + spec.mode() + " of group " + spec.group()
                    + " is not supported by the HTTP feed: it is fan-out only (one puller per group)");
        }
        FeedPuller.Rebootstrap rebootstrap = again == null ? null : h -> {
            Bootstrap.Result result = again.run(h, spec.topic());
            return new FeedPuller.Resumed(again.snapshot(), result.rows(), result.position());
        };
        long from = positions.load(spec.group(), spec.topic());
        FeedPuller[] self = new FeedPuller[1];
        self[0] = new FeedPuller(spec, handler, client, positions, pageSize, pollWait, initialBackoff, maxBackoff,
                meters, rebootstrap, () -> pullers.remove(self[0]));
        pullers.add(self[0]);
        handler.onSubscribed(self[0]);
        return self[0].start(from);
    }

    @Override
    public void close() {
        List.copyOf(pullers).forEach(FeedPuller::close);
    }

    public static final class Builder {
        private final FeedClient client;
        private PositionStore positions = PositionStore.inMemory();
        private int pageSize = 500;
        private Duration pollWait = Duration.ofSeconds(20);
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private MeterRegistry meters = Metrics.globalRegistry; // as every eventsync component
        private final Map<String, String> rebootstrapSnapshots = new LinkedHashMap<>();

        private Builder(FeedClient client) {
            this.client = client;
        }

        /** Where positions are kept; use {@link PositionStore#of} on the copy's database. Default in memory. */
        public Builder positions(PositionStore positions) { this.positions = positions; return this; }
        /** Events asked for per request; default 500 (the server may cap it). */
        public Builder pageSize(int n) { this.pageSize = n; return this; }
        /** How long each poll may wait on the server for new events; default 20s. */
        public Builder pollWait(Duration d) { this.pollWait = d; return this; }
        /** Back-off after a failed poll: first ceiling and largest ceiling (full jitter); default 100 ms, 10 s. */
        public Builder backoff(Duration initial, Duration max) { this.initialBackoff = initial; this.maxBackoff = max; return this; }
        public Builder meterRegistry(MeterRegistry registry) { this.meters = registry; return this; }
        /**
         * {@link GonePolicy#REBOOTSTRAP} for subscriptions to {@code topic}: when the feed no longer retains
         * their position (410), bootstrap the group again from snapshot {@code snapshot} (which must be
         * consistent with {@code topic}) through the subscription's handler, store its position and pull
         * on from there. Topics not named here use {@link GonePolicy#FAIL}.
         */
        public Builder rebootstrapWhenGone(String topic, String snapshot) {
            rebootstrapSnapshots.put(topic, snapshot);
            return this;
        }

        public HttpFeedTransport build() {
            if (client == null) {
                throw new ConfigException("client is required: a FeedClient for the source's feed server");
            }
            if (positions == null) {
                throw new ConfigException("positions must not be null");
            }
            if (pageSize < 1 || pageSize > 100_000) {
                throw new ConfigException("pageSize must be in [1, 100000] but was: " + pageSize);
            }
            // At least a second: the wait travels in whole seconds, and a zero wait would poll an idle feed in a loop.
            if (pollWait.toSeconds() < 1 || pollWait.toSeconds() > 300) {
                throw new ConfigException("pollWait must be in [1s, 300s] but was: " + pollWait);
            }
            if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new ConfigException("backoff must be 0 < initial <= max but was: " + initialBackoff + ", " + maxBackoff);
            }
            rebootstrapSnapshots.forEach((topic, snapshot) -> {
                SubscriptionSpec.fanout(topic, "check"); // the topic name, by the transports' rules
                if (snapshot == null || snapshot.isBlank()) {
                    throw new ConfigException("rebootstrapWhenGone: the snapshot of topic " + topic
                            + " must be the name the source serves it under, but was: " + snapshot);
                }
            });
            return new HttpFeedTransport(this);
        }
    }
}
