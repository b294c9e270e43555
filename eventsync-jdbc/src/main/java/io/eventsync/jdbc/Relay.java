package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.internal.Backoff;
import io.eventsync.internal.Tracing;
import io.eventsync.jdbc.internal.Fence;
import io.eventsync.jdbc.internal.FencedPublisher;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Lease;
import io.eventsync.jdbc.internal.LeasedLoop;
import io.eventsync.jdbc.internal.OutboxBatch;
import io.eventsync.jdbc.internal.RelayHeartbeat;
import io.eventsync.jdbc.internal.RelayKeys;
import io.eventsync.jdbc.internal.RelaySends;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.Waiter;
import io.eventsync.transport.Publisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves committed outbox rows of one source to a transport, and removes them once the transport
 * confirmed them. Run one per outbox on every instance of the service: a fenced lease (table
 * {@code eventsync_lease}, name {@code relay:<source>}) makes exactly one of them active; the others
 * wait and take over when it dies.
 *
 * <p>Guarantees: a row is deleted only after its send was confirmed, in a transaction fenced by the
 * lease, so a crash at any point republishes and never loses; a stale leader cannot delete. Rows are
 * re-read from the oldest on every batch, so a row that commits late (lower id, later commit) is never
 * skipped. The rows of a partition key (the outbox's {@code subject} column) leave in commit order,
 * one after another: a row is sent only once the previous row of its key is confirmed.
 *
 * <p>A failing key never holds back the others. When a send fails, the key's rows stay in the
 * outbox, in order, and the key waits out a capped exponential backoff while the relay reads past its
 * rows; then it is tried again, without waiting for it in the batch. A row that no transport will ever
 * take (over the transport's size limit, undecodable, refused with a {@link io.eventsync.PermanentException})
 * is moved, in the fenced transaction, to the relay dead letters ({@code eventsync_outbox_dead_letters})
 * with its reason, and its key is parked: its later rows wait until an operator replays or discards
 * the letter ({@link OutboxDeadLetters}, {@code eventsync dlq --outbox}). Rows are checked (decoded)
 * before the relay adds their position, so a corrupt row never reaches a consumer in altered form.
 *
 * <p>It sleeps only when there is nothing to do, and wakes on commit: LISTEN/NOTIFY on PostgreSQL,
 * an in-process signal from writers in the same JVM, otherwise an adaptive poll that shortens on
 * activity and backs off when idle. On PostgreSQL it records its channel in the schema's
 * {@code <prefix>notify_channel} table when it starts, so writers in other languages wake it with
 * {@code SELECT <prefix>notify('<source>')} without knowing how the channel is derived. MariaDB and
 * H2 have no NOTIFY: there only writers in this JVM wake it, and other writers' rows are found by
 * the poll (at most {@link Builder#pollInterval its maximum interval} after an idle spell).
 */
public final class Relay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Relay.class);

    private final DataSource dataSource;
    private final SchemaNames names;
    private final String source;
    private final Publisher publisher;
    private final int batchSize;
    private final Duration leaseDuration;
    private final Duration sendTimeout;
    private final Duration linger;
    private final String owner;
    private final Counter published;
    private final Counter deadLettered;
    private final DistributionSummary batchSizes;
    private final Timer lag;
    private final LeasedLoop loop;
    private final RelayKeys keys;
    private final RelaySends sends;
    private final Backoff.Sequence idle;
    private final RelayHeartbeat heartbeat;
    /** Fences appends to an embedded log in this database with this relay's lease (one instance: see unfence). */
    private final io.eventsync.jdbc.internal.Fence logFence = this::holdsLease;

    private volatile EventsyncException lastFailure;
    private Tables tables;
    private Waiter waiter;
    /** Whether the outbox has relay dead letters (parked keys) as of the last lease renewal or park. */
    private boolean parkedKeys;
    private EnvelopeCodec codec = EnvelopeCodec.defaults();

    private Relay(Builder b) {
        this.dataSource = b.dataSource;
        this.names = b.names;
        this.source = b.source;
        this.publisher = b.publisher;
        this.batchSize = b.batchSize;
        this.leaseDuration = b.leaseDuration;
        this.sendTimeout = b.sendTimeout;
        this.linger = b.linger;
        this.owner = b.owner != null ? b.owner : source + "-" + UUID.randomUUID();
        this.idle = Backoff.doubling(b.minPoll, b.maxPoll).sequence();
        MeterRegistry registry = b.registry;
        this.published = Counter.builder("eventsync.relay.published").tag("outbox", source)
                .description("events published and removed from the outbox").register(registry);
        this.deadLettered = Counter.builder("eventsync.relay.dead_letters").tag("outbox", source)
                .description("rows no transport takes, moved to the relay dead letters").register(registry);
        this.keys = new RelayKeys(b.retryMin, b.retryMax);
        // Only the sends are traced: the fence and the heartbeats keep the caller's publisher.
        this.sends = new RelaySends(b.tracing ? Tracing.producer(publisher) : publisher, sendTimeout.toNanos());
        this.heartbeat = new RelayHeartbeat(source, publisher, b.heartbeatInterval);
        Gauge.builder("eventsync.relay.failing_keys", keys, RelayKeys::failingCount).tag("outbox", source)
                .description("keys whose last send failed; their rows wait while others flow").register(registry);
        this.batchSizes = DistributionSummary.builder("eventsync.relay.batch_size").tag("outbox", source)
                .description("rows per relay batch").register(registry);
        this.lag = Timer.builder("eventsync.relay.lag").tag("outbox", source)
                .description("from the event's time to its confirmed publication").register(registry);
        this.loop = new LeasedLoop("eventsync-relay-" + source, "relay of outbox " + source, dataSource, leaseDuration,
                new Work());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the relay thread; returns this. */
    public Relay start() {
        loop.start();
        return this;
    }

    /** True while this relay holds the outbox's lease. */
    public boolean isLeader() {
        return loop.holding();
    }

    /** The lease epoch this relay last held; grows with every takeover. */
    public long epoch() {
        return loop.epoch();
    }

    public String owner() {
        return owner;
    }

    /** The last failure (connection, missing table, send), cleared by the next successful batch. */
    public Optional<EventsyncException> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /**
     * Stops after the batch in flight (waiting up to the send timeout), then lets the lease expire at
     * once so another relay takes over without waiting. The publisher belongs to the caller.
     */
    @Override
    public void close() {
        loop.close(sendTimeout.plus(leaseDuration));
    }

    /** A {@link Fence}: appends to a log in this database commit only while this relay holds its lease at its epoch. */
    private boolean holdsLease(Connection c) throws SQLException {
        return loop.holding() && loop.lease().fence(c, loop.epoch());
    }

    /** The relay's part of its leased loop. */
    private final class Work implements LeasedLoop.Work {
        @Override
        public Lease bind() throws SQLException {
            try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
                Tables t = Tables.resolve(c, names);
                String url = c.getMetaData().getURL();
                Lease lease = new Lease(t, "relay:" + source, owner, leaseDuration);
                registerChannel(c, t);
                waiter = Waiter.create(t.dialect(), dataSource, Outbox.channel(t, source), Outbox.signal(url, t, source));
                if (publisher instanceof FencedPublisher fenced && fenced.dataSource() == dataSource) {
                    // The log lives in this database: appending to it is fenced by the same lease.
                    fenced.fence(logFence);
                }
                tables = t;
                return lease;
            }
        }

        /**
         * Records the channel this relay will LISTEN on, for writers that wake it through the schema's
         * {@code <prefix>notify(source)} function (PostgreSQL): the channel is derived here, in Java, only.
         * Done before the relay's first read, so a writer that commits after that read finds the row. A
         * schema installed by a version without the table still relays: its writers derive the channel.
         */
        private void registerChannel(Connection c, Tables t) throws SQLException {
            String sql = t.dialect().upsertNotifyChannel(t);
            if (sql == null) {
                return;
            }
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, source);
                ps.setString(2, Outbox.channel(t, source));
                ps.executeUpdate();
                if (!c.getAutoCommit()) {
                    c.commit();
                }
            } catch (SQLException e) {
                // Only a convenience for writers: a missing table (an older schema) or a relay role without
                // the right to write it must not keep the relay from relaying.
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
                if (t.dialect().isMissingTable(e)) {
                    log.info("relay {} of outbox {}: no table {} (schema installed by an older eventsync; run the"
                            + " schema install again so writers can call {}(source)); writers must derive the NOTIFY"
                            + " channel", owner, source, t.name("notify_channel"), t.name("notify"));
                } else {
                    log.warn("relay {} of outbox {}: cannot record its NOTIFY channel in {} (SQLState {}: {}); writers"
                            + " calling {}(source) do not wake it and it finds their rows by polling", owner, source,
                            t.name("notify_channel"), e.getSQLState(), e.getMessage(), t.name("notify"));
                }
            }
        }

        @Override
        public void held(Connection c, long epoch, boolean newEpoch) throws SQLException {
            if (newEpoch) {
                log.info("relay {} of outbox {} is the leader (epoch {})", owner, source, epoch);
                keys.clearAll();
            }
            // Only the leader parks keys (in its fenced transaction), so this is never stale in the
            // unsafe direction; it drops to false once an operator released every letter.
            parkedKeys = OutboxBatch.hasDeadLetters(c, tables, source);
        }

        @Override
        public void lost() {
            log.warn("relay {} of outbox {} lost its lease (epoch {})", owner, source, loop.epoch());
        }

        @Override
        public void round() throws SQLException, InterruptedException {
            Batch batch = relayBatch();
            if (batch.confirmed() > 0) {
                idle.reset();
            }
            if (batch.sent() > 0) {
                if (batch.confirmed() > 0 && batch.sent() < batchSize) {
                    // A partial batch means we caught up with the writers. Under load, reading again at
                    // once would relay one or two rows per round trip and compete with the writers for
                    // the database; lingering briefly lets a batch build up.
                    loop.pause(linger.toMillis());
                }
                return;
            }
            long now = System.nanoTime();
            long untilRetry = TimeUnit.NANOSECONDS.toMillis(keys.nanosUntilNextRetry(now));
            long wait = Math.min(Math.min(idle.next().toMillis(), untilRetry), Math.max(1, heartbeat.millisUntilDue(now)));
            if (waiter.await(wait) && !sends.hasInFlight()) {
                idle.reset();
            }
        }

        @Override
        public EventsyncException failed(Exception e) {
            heartbeat.discard();
            lastFailure = e instanceof SQLException sql
                    ? Jdbc.failure(tables, "relay of outbox " + source,
                            tables == null ? "" : tables.schema() + "." + tables.prefix() + "*", sql)
                    : (EventsyncException) e;
            return lastFailure;
        }

        @Override
        public void stopping() {}

        @Override
        public void closed() {
            if (waiter != null) {
                waiter.close();
            }
            if (publisher instanceof FencedPublisher fenced) {
                fenced.unfence(logFence); // a relay started later on the same publisher may fence it
            }
        }
    }

    /** What one round did: rows sent (probes included) and rows confirmed and deleted. */
    private record Batch(int sent, int confirmed) {}

    private Batch relayBatch() throws SQLException, InterruptedException {
        long now = System.nanoTime();
        Set<String> inFlight = sends.keysInFlight();
        // The read below leaves out keys in flight or waiting for a retry: rows of theirs committed before
        // the clock read may be missing from it, so such a round can never vouch for a heartbeat.
        boolean completeRead = inFlight.isEmpty() && keys.failingCount() == 0;
        int maxEventBytes = publisher.maxEventBytes();
        if (codec.maxBytes() != Math.max(64, maxEventBytes)) {
            codec = EnvelopeCodec.custom().maxBytes(Math.max(64, maxEventBytes)).build();
        }
        List<OutboxBatch.Row> read;
        try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
            c.setAutoCommit(true);
            heartbeat.beforeRead(c, tables.dialect(), now);
            read = OutboxBatch.read(c, tables, source, batchSize, keys.excluded(inFlight, now), parkedKeys,
                    maxEventBytes, codec);
        }
        List<OutboxBatch.Row> rows = new ArrayList<>(read.size());
        Set<String> keysRead = keys.failingCount() == 0 ? null : new HashSet<>(inFlight);
        for (OutboxBatch.Row row : read) {
            if (keysRead != null) {
                keysRead.add(row.key());
            }
            // The query leaves out only so many blocked keys; the rest are passed over here.
            if (!inFlight.contains(row.key()) && !keys.waiting(row.key(), now)) {
                rows.add(row);
            }
        }
        if (keysRead != null && read.size() < batchSize) {
            keys.forgetDueKeysWithout(keysRead, now);
        }
        boolean readAll = read.size() < batchSize;
        if (rows.isEmpty() && !sends.hasInFlight()) {
            lastFailure = keys.failingCount() == 0 ? null : new EventsyncException("relay of outbox " + source + ": "
                    + keys.describe(now));
            heartbeatIfCaughtUp(readAll && completeRead);
            return new Batch(0, 0);
        }
        if (!rows.isEmpty()) {
            batchSizes.record(rows.size());
        }
        sends.send(rows, key -> keys.failure(key) != null, now);
        Batch batch = apply(sends.settle(), rows.size());
        heartbeatIfCaughtUp(readAll && completeRead);
        return batch;
    }

    /**
     * Sends the heartbeat due after this round only when the round caught up: the read was not cut by the
     * batch size nor left keys out, and every row it read is confirmed (none failing, none still in
     * flight). Otherwise some event committed before the heartbeat's time is not published yet, and the
     * heartbeat would lie.
     */
    private void heartbeatIfCaughtUp(boolean completeRead) {
        if (completeRead && keys.failingCount() == 0 && !sends.hasInFlight() && loop.holding()) {
            heartbeat.caughtUp(System.nanoTime());
        } else {
            heartbeat.discard();
        }
    }

    /**
     * Deletes what was confirmed and moves what was refused to the relay dead letters, in one fenced
     * transaction; then updates the keys: a failed key backs off, a refused one is parked.
     */
    private Batch apply(List<RelaySends.Result> results, int sent) throws SQLException {
        long now = System.nanoTime();
        long nowMillis = System.currentTimeMillis();
        List<Long> confirmed = new ArrayList<>(results.size());
        List<OutboxBatch.Letter> letters = new ArrayList<>();
        Map<String, String> failed = new LinkedHashMap<>();
        Set<String> parked = new LinkedHashSet<>();
        Set<String> delivered = new LinkedHashSet<>();
        for (RelaySends.Result r : results) {
            OutboxBatch.Row row = r.row();
            switch (r.outcome()) {
                case CONFIRMED -> {
                    confirmed.add(row.id());
                    delivered.add(row.key());
                    recordLag(row, nowMillis);
                }
                case REFUSED -> {
                    RelayKeys.Failing before = keys.failure(row.key());
                    letters.add(new OutboxBatch.Letter(row.id(), r.error(), before == null ? 1 : before.attempts() + 1,
                            before == null ? 0 : TimeUnit.NANOSECONDS.toMillis(now - before.firstFailureNanos())));
                    parked.add(row.key());
                }
                case FAILED -> {
                    failed.putIfAbsent(row.key(), r.error());
                    log.warn("relay of outbox {}: send of event {} (key {}, position {}) failed, it stays in the outbox: {}",
                            source, row.eventId(), row.key(), row.id(), r.error());
                }
                case NOT_SENT -> { } // stays, and goes after the earlier row of its key
            }
        }
        if ((!confirmed.isEmpty() || !letters.isEmpty()) && !commitFenced(confirmed, letters)) {
            return new Batch(sent, 0);
        }
        published.increment(confirmed.size());
        confirmed.stream().mapToLong(Long::longValue).max().ifPresent(heartbeat::published);
        deadLettered.increment(letters.size());
        for (RelaySends.Result r : results) {
            if (r.outcome() == RelaySends.Outcome.REFUSED) {
                log.warn("relay of outbox {}: event {} (key {}, position {}) moved to the relay dead letters; its key"
                        + " waits until it is replayed or discarded: {}", source, r.row().eventId(), r.row().key(),
                        r.row().id(), r.error());
            }
        }
        parkedKeys |= !letters.isEmpty();
        boolean newFailure = false;
        for (Map.Entry<String, String> f : failed.entrySet()) {
            newFailure |= keys.failure(f.getKey()) == null;
            keys.failed(f.getKey(), f.getValue(), now);
        }
        parked.forEach(keys::clear);
        delivered.stream().filter(k -> !failed.containsKey(k)).forEach(keys::clear);
        lastFailure = keys.failingCount() == 0 ? null : new EventsyncException("relay of outbox " + source + ": "
                + keys.describe(now));
        if (newFailure && confirmed.isEmpty() && letters.isEmpty()) {
            // Nothing went through and keys that worked before fail now: likely the transport itself.
            // Back off the whole relay (the caller pauses) instead of trying key after key at once.
            throw new EventsyncException("relay of outbox " + source + ": no event of the batch was confirmed by the"
                    + " transport; " + keys.describe(now));
        }
        return new Batch(sent, confirmed.size());
    }

    private void recordLag(OutboxBatch.Row row, long nowMillis) {
        var time = row.event().envelope().getTime();
        if (time.getSeconds() > 0) {
            lag.record(Math.max(0, nowMillis - time.getSeconds() * 1000 - time.getNanos() / 1_000_000), TimeUnit.MILLISECONDS);
        }
    }

    private boolean commitFenced(List<Long> confirmed, List<OutboxBatch.Letter> letters) throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
            c.setAutoCommit(false);
            try {
                if (!loop.lease().fence(c, loop.epoch())) {
                    c.rollback();
                    loop.lostLease();
                    log.warn("relay {} of outbox {} lost its lease (epoch {}) before deleting {} published rows;"
                            + " the new leader publishes them again", owner, source, loop.epoch(), confirmed.size());
                    return false;
                }
                OutboxBatch.delete(c, tables, confirmed);
                OutboxBatch.moveToDeadLetters(c, tables, letters);
                c.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                Jdbc.rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** Relay settings, validated in {@link #build()}. */
    public static final class Builder {
        private DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private String source;
        private Publisher publisher;
        private int batchSize = 500;
        private Duration leaseDuration = Duration.ofSeconds(10);
        private Duration sendTimeout = Duration.ofSeconds(30);
        private Duration minPoll = Duration.ofMillis(1);
        private Duration linger = Duration.ofMillis(2);
        private Duration maxPoll = Duration.ofMillis(250);
        private Duration retryMin = Duration.ofMillis(100);
        private Duration retryMax = Duration.ofSeconds(5);
        private String owner;
        private Duration heartbeatInterval = Duration.ofSeconds(1);
        private MeterRegistry registry = Metrics.globalRegistry;
        private boolean tracing = true;

        /** The source's database, where the outbox and lease tables are. Required. */
        public Builder dataSource(DataSource dataSource) { this.dataSource = dataSource; return this; }

        public Builder names(SchemaNames names) { this.names = names; return this; }

        /** The outbox's source name, as given to {@link Outbox#of}. Required. */
        public Builder source(String source) { this.source = source; return this; }

        /** Where events go, e.g. {@code transport.publisher(topic)}. Required; owned by the caller. */
        public Builder publisher(Publisher publisher) { this.publisher = publisher; return this; }

        /** Rows per batch, 1..10000; default 500. */
        public Builder batchSize(int batchSize) { this.batchSize = batchSize; return this; }

        /** How long a silent leader keeps the lease; default 10 s. Failover takes up to this long. */
        public Builder leaseDuration(Duration d) { this.leaseDuration = d; return this; }

        /** How long to wait for the transport to confirm a batch; default 30 s. */
        public Builder sendTimeout(Duration d) { this.sendTimeout = d; return this; }

        /** Idle polling between {@code min} and {@code max} where no signal exists; default 1 ms..250 ms. */
        public Builder pollInterval(Duration min, Duration max) { this.minPoll = min; this.maxPoll = max; return this; }

        /**
         * After a partial batch, wait this long before reading again so the next batch is larger under
         * load; default 2 ms, zero to read again at once (lowest latency, most database round trips).
         */
        public Builder linger(Duration d) { this.linger = d; return this; }

        /**
         * How long a key whose send failed waits before it is tried again: doubling from {@code min} to
         * {@code max} on every failure in a row; default 100 ms..5 s. Other keys flow meanwhile.
         */
        public Builder retryBackoff(Duration min, Duration max) { this.retryMin = min; this.retryMax = max; return this; }

        /**
         * How often the leader sends a heartbeat into every partition of its topic, also while the outbox
         * is idle, so consumers measure their copy's freshness ({@code Dispatcher.freshness()}); default
         * 1 s, {@link Duration#ZERO} to send none.
         */
        public Builder heartbeatInterval(Duration d) { this.heartbeatInterval = d; return this; }

        /** A name for this relay in the lease table and logs; default source + random UUID. */
        public Builder owner(String owner) { this.owner = owner; return this; }

        public Builder meterRegistry(MeterRegistry registry) { this.registry = registry; return this; }

        /**
         * Whether each send of a traced event (one whose envelope has a {@code traceparent}) is an
         * OpenTelemetry PRODUCER span, child of the writer's span, whose context the event then carries
         * to the copies. Default true; it takes effect only when the OpenTelemetry API is on the class
         * path and an SDK (or the agent) is installed as {@code GlobalOpenTelemetry}.
         */
        public Builder tracing(boolean enabled) { this.tracing = enabled; return this; }

        public Relay build() {
            if (dataSource == null) {
                throw new ConfigException("dataSource is required");
            }
            if (publisher == null) {
                throw new ConfigException("publisher is required");
            }
            Outbox.of(source, Objects.requireNonNull(names, "names")); // validates source
            if (batchSize < 1 || batchSize > 10_000) {
                throw new ConfigException("batchSize must be 1..10000, but was: " + batchSize);
            }
            requirePositive("leaseDuration", leaseDuration);
            requirePositive("sendTimeout", sendTimeout);
            requirePositive("pollInterval min", minPoll);
            if (linger == null || linger.isNegative()) {
                throw new ConfigException("linger must be zero or positive, but was: " + linger);
            }
            requirePositive("pollInterval max", maxPoll);
            if (heartbeatInterval == null || heartbeatInterval.isNegative()) {
                throw new ConfigException("heartbeatInterval must be zero (none) or positive, but was: "
                        + heartbeatInterval);
            }
            requirePositive("retryBackoff min", retryMin);
            requirePositive("retryBackoff max", retryMax);
            if (retryMax.compareTo(retryMin) < 0) {
                throw new ConfigException("retryBackoff max must be >= min, but was: " + retryMax + " < " + retryMin);
            }
            if (maxPoll.compareTo(minPoll) < 0) {
                throw new ConfigException("pollInterval max must be >= min, but was: " + maxPoll + " < " + minPoll);
            }
            if (owner != null && (owner.isBlank() || owner.length() > 200)) {
                throw new ConfigException("owner must be 1-200 characters, but was: " + owner);
            }
            Objects.requireNonNull(registry, "meterRegistry");
            return new Relay(this);
        }

        private static void requirePositive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigException(field + " must be positive, but was: " + d);
            }
        }
    }
}
