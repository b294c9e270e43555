package io.eventsync.http;

import io.eventsync.ConfigException;
import io.eventsync.http.v1.FeedEntry;
import io.eventsync.http.v1.SnapshotPage;
import io.eventsync.internal.Backoff;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fills a new copy from a {@link FeedServer} snapshot, then follows the feed from the snapshot's
 * position, so the copy ends equal to its source even while the source keeps writing.
 *
 * <p>Snapshot rows travel as envelopes (subject = key, sequence = row version) through the same
 * {@link DeliveryHandler} (dispatcher, inbox, copy table with version guard) as feed events. Once
 * every row is acknowledged the snapshot's position P is stored for the group, and following the
 * feed starts there. Events between P and the moment a row was read are delivered again by the feed;
 * the version guard skips those not newer than the row. Running it again is harmless for the same
 * reason. Meant for an empty copy: rows the source deleted before the snapshot are not in it, so a
 * copy that already held them keeps them ({@code eventsync verify --repair --apply} removes them).
 *
 * <p>{@link Builder#onGone}{@code (REBOOTSTRAP)} makes {@link #runAndFollow} subscribe so that, when the
 * feed later no longer retains the group's position (410), this bootstrap runs again through the same
 * handler and the feed is followed from the new snapshot's position.
 */
public final class Bootstrap {
    private static final Logger log = LoggerFactory.getLogger(Bootstrap.class);

    private final FeedClient client;
    private final String snapshot;
    private final String group;
    private final PositionStore positions;
    private final int pageSize;
    private final Duration applyTimeout;
    private final GonePolicy onGone;
    /** Between tries of a page while the server is unavailable: 100 ms doubling to maxBackoff, full jitter. */
    private final Backoff backoff;

    /** What a bootstrap did: the feed position it stored and the rows it applied. */
    public record Result(String topic, long position, long rows) {}

    private Bootstrap(Builder b) {
        this.client = b.client;
        this.snapshot = b.snapshot;
        this.group = b.group;
        this.positions = b.positions;
        this.pageSize = b.pageSize;
        this.applyTimeout = b.applyTimeout;
        this.onGone = b.onGone;
        this.backoff = Backoff.doublingWithJitter(Duration.ofMillis(100), b.maxBackoff);
    }

    public static Builder builder(FeedClient client, String snapshot) {
        return new Builder(client, snapshot);
    }

    /**
     * Pages through the snapshot, delivering every row to {@code handler}, waits until all are
     * acknowledged, stores the snapshot position for the group and returns it.
     *
     * @throws FeedRejectedException when the server refuses (unknown snapshot, bad token)
     */
    public Result run(DeliveryHandler handler) throws InterruptedException {
        return run(handler, null);
    }

    /** The snapshot name this bootstrap reads. */
    public String snapshot() {
        return snapshot;
    }

    /**
     * {@link #run}, refusing before any row is delivered when the snapshot is not of feed {@code expected}
     * (null: any): a re-bootstrap must move the position of the feed that was lost, not another's.
     */
    Result run(DeliveryHandler handler, String expected) throws InterruptedException {
        Acks acks = new Acks();
        Backoff.Sequence retry = backoff.sequence();
        String cursor = "";
        String topic = null;
        long position = -1;
        long rows = 0;
        String partition = "snapshot:" + snapshot;
        do {
            SnapshotPage page;
            try {
                page = client.snapshot(snapshot, cursor, pageSize);
                retry.reset();
            } catch (FeedUnavailableException e) {
                Duration wait = retry.next(e.retryAfter().orElse(Duration.ZERO));
                log.warn("snapshot {} unavailable (failure {}), retrying the same page in {} ms: {}",
                        snapshot, retry.failures(), wait.toMillis(), e.getMessage());
                Thread.sleep(wait.toMillis());
                continue;
            }
            topic = page.getTopic();
            if (expected != null && !expected.equals(topic)) {
                throw new ConfigException("snapshot " + snapshot + " is consistent with feed " + topic + ", not with feed "
                        + expected + " that group " + group + " follows: configure the snapshot of feed " + expected);
            }
            position = page.getPosition();
            for (FeedEntry entry : page.getEntriesList()) {
                long index = rows++;
                handler.onDelivery(new RowDelivery(partition, index, entry.getEnvelope().toByteArray(), acks));
            }
            cursor = page.getNextCursor();
        } while (!cursor.isEmpty());
        acks.awaitAll(rows, applyTimeout, snapshot);
        positions.save(group, topic, position);
        log.info("bootstrapped group {} from snapshot {}: {} rows, following feed {} from offset {}",
                group, snapshot, rows, topic, position);
        return new Result(topic, position, rows);
    }

    /**
     * {@link #run} then subscribes {@code transport} to the snapshot's feed for the group, from the stored
     * position; with {@link Builder#onGone}{@code (REBOOTSTRAP)}, a 410 on that subscription runs this
     * bootstrap again (else the transport's policy for the topic applies).
     */
    public Subscription runAndFollow(HttpFeedTransport transport, DeliveryHandler handler) throws InterruptedException {
        Result result = run(handler);
        SubscriptionSpec spec = SubscriptionSpec.fanout(result.topic(), group);
        return onGone == GonePolicy.REBOOTSTRAP ? transport.subscribe(spec, handler, this) : transport.subscribe(spec, handler);
    }

    /** Counts acknowledgements; the bootstrap waits for all before it moves the position. */
    private static final class Acks {
        private long acked;

        synchronized void ack() {
            acked++;
            notifyAll();
        }

        synchronized void awaitAll(long expected, Duration timeout, String snapshot) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (acked < expected) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new io.eventsync.EventsyncException("snapshot " + snapshot + ": only " + acked + " of " + expected
                            + " rows were applied within " + timeout + "; the position was not stored, run the bootstrap again");
                }
                wait(Math.max(1, remaining / 1_000_000));
            }
        }
    }

    private record RowDelivery(String partition, long offset, byte[] bytes, Acks acks) implements Delivery {
        @Override
        public int deliveryCount() {
            return 1;
        }

        @Override
        public void ack() {
            acks.ack();
        }
    }

    public static final class Builder {
        private final FeedClient client;
        private final String snapshot;
        private String group;
        private PositionStore positions;
        private int pageSize = 1000;
        private Duration applyTimeout = Duration.ofMinutes(5);
        private Duration maxBackoff = Duration.ofSeconds(10);
        private GonePolicy onGone = GonePolicy.FAIL;

        private Builder(FeedClient client, String snapshot) {
            this.client = client;
            this.snapshot = snapshot;
        }

        /** The consumer group that will follow the feed (its position is stored). Required. */
        public Builder group(String group) { this.group = group; return this; }
        /** Where the group's position is stored: the same store the {@link HttpFeedTransport} uses. Required. */
        public Builder positions(PositionStore positions) { this.positions = positions; return this; }
        /** Rows per request; default 1000 (the server may cap it). */
        public Builder pageSize(int n) { this.pageSize = n; return this; }
        /** How long to wait, after the last page, for every row to be applied; default 5 min. */
        public Builder applyTimeout(Duration d) { this.applyTimeout = d; return this; }
        /** Largest back-off between retries of a page while the server is unavailable; default 10s. */
        public Builder maxBackoff(Duration d) { this.maxBackoff = d; return this; }
        /**
         * What the subscription {@link #runAndFollow} makes does when the feed no longer retains its
         * position (410): {@link GonePolicy#FAIL} (default: stop and report) or
         * {@link GonePolicy#REBOOTSTRAP} (run this bootstrap again and follow from its position).
         */
        public Builder onGone(GonePolicy policy) { this.onGone = policy; return this; }

        public Bootstrap build() {
            if (client == null) {
                throw new ConfigException("client is required: a FeedClient for the source's feed server");
            }
            if (snapshot == null || snapshot.isBlank()) {
                throw new ConfigException("snapshot is required: the name the source serves it under, was: " + snapshot);
            }
            SubscriptionSpec.fanout("check", group); // validates the group name with the transports' rules
            if (positions == null) {
                throw new ConfigException("positions is required: the store the feed transport resumes from");
            }
            if (pageSize < 1) {
                throw new ConfigException("pageSize must be >= 1 but was: " + pageSize);
            }
            if (applyTimeout.isNegative() || applyTimeout.isZero()) {
                throw new ConfigException("applyTimeout must be positive but was: " + applyTimeout);
            }
            if (onGone == null) {
                throw new ConfigException("onGone must be FAIL or REBOOTSTRAP but was: null");
            }
            if (maxBackoff == null || maxBackoff.isNegative()) {
                throw new ConfigException("maxBackoff must not be negative but was: " + maxBackoff);
            }
            return new Bootstrap(this);
        }
    }
}
