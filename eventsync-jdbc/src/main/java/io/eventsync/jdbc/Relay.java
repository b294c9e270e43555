package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.jdbc.internal.Backoff;
import io.eventsync.jdbc.internal.Fence;
import io.eventsync.jdbc.internal.FencedPublisher;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Lease;
import io.eventsync.jdbc.internal.OutboxBatch;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.Waiter;
import io.eventsync.transport.Publisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * re-read on every batch, so a row that commits late (lower id, later commit) is never skipped, and
 * the events of a subject leave in commit order. If a send of some key fails, the later rows of that
 * key in the batch are kept too and sent again after it.
 *
 * <p>It sleeps only when there is nothing to do, and wakes on commit: LISTEN/NOTIFY on PostgreSQL,
 * an in-process signal from writers in the same JVM, otherwise an adaptive poll that shortens on
 * activity and backs off when idle.
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
    private final Duration minPoll;
    private final Duration linger;
    private final Duration maxPoll;
    private final String owner;
    private final Counter published;
    private final DistributionSummary batchSizes;
    private final Timer lag;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Appends to a log in this database commit only while this relay holds its lease at its epoch. */
    private final Fence logFence = conn -> this.leader && this.lease.fence(conn, this.epoch);

    private volatile boolean running;
    private volatile boolean leader;
    private volatile long epoch;
    private volatile EventsyncException lastFailure;
    private Tables tables;
    private Lease lease;
    private Waiter waiter;
    private long lastRenewNanos;

    private Relay(Builder b) {
        this.dataSource = b.dataSource;
        this.names = b.names;
        this.source = b.source;
        this.publisher = b.publisher;
        this.batchSize = b.batchSize;
        this.leaseDuration = b.leaseDuration;
        this.sendTimeout = b.sendTimeout;
        this.minPoll = b.minPoll;
        this.linger = b.linger;
        this.maxPoll = b.maxPoll;
        this.owner = b.owner != null ? b.owner : source + "-" + UUID.randomUUID();
        MeterRegistry registry = b.registry;
        this.published = Counter.builder("eventsync.relay.published").tag("outbox", source)
                .description("events published and removed from the outbox").register(registry);
        this.batchSizes = DistributionSummary.builder("eventsync.relay.batch_size").tag("outbox", source)
                .description("rows per relay batch").register(registry);
        this.lag = Timer.builder("eventsync.relay.lag").tag("outbox", source)
                .description("from the event's time to its confirmed publication").register(registry);
        this.thread = new Thread(this::run, "eventsync-relay-" + source);
        this.thread.setDaemon(true);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the relay thread; returns this. */
    public Relay start() {
        running = true;
        thread.start();
        return this;
    }

    /** True while this relay holds the outbox's lease. */
    public boolean isLeader() {
        return leader;
    }

    /** The lease epoch this relay last held; grows with every takeover. */
    public long epoch() {
        return epoch;
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
        if (!running) {
            return;
        }
        running = false;
        stopped.countDown();
        try {
            thread.join(sendTimeout.toMillis() + leaseDuration.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(leaseDuration.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        Backoff retry = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5));
        Backoff idle = new Backoff(minPoll, maxPoll);
        try {
            while (running) {
                try {
                    if (tables == null) {
                        bind();
                    }
                    if (!holdLease()) {
                        pause(leaseDuration.toMillis() / 3);
                        continue;
                    }
                    int relayed = relayBatch();
                    retry.reset();
                    if (relayed > 0) {
                        idle.reset();
                        if (relayed < batchSize) {
                            // A partial batch means we caught up with the writers. Under load, reading
                            // again at once would relay one or two rows per round trip and compete with
                            // the writers for the database; lingering briefly lets a batch build up.
                            pause(linger.toMillis());
                        }
                        continue;
                    }
                    if (waiter.await(idle.next())) {
                        idle.reset();
                    }
                } catch (EventsyncException e) {
                    fail(e, retry.next());
                } catch (SQLException e) {
                    fail(Jdbc.failure(tables, "relay of outbox " + source,
                            tables == null ? "" : tables.schema() + "." + tables.prefix() + "*", e), retry.next());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            releaseLease();
            if (waiter != null) {
                waiter.close();
            }
        }
    }

    private void fail(EventsyncException e, long retryMillis) throws InterruptedException {
        lastFailure = e;
        log.error("relay of outbox {} failed, retrying in {} ms: {}", source, retryMillis, e.getMessage(),
                log.isDebugEnabled() ? e : null);
        pause(retryMillis);
    }

    private void pause(long millis) throws InterruptedException {
        stopped.await(millis, TimeUnit.MILLISECONDS);
    }

    private void bind() throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
            Tables t = Tables.resolve(c, names);
            String url = c.getMetaData().getURL();
            this.lease = new Lease(t, "relay:" + source, owner, leaseDuration);
            this.waiter = Waiter.create(t.dialect(), dataSource, Outbox.channel(t, source), Outbox.signal(url, t, source));
            if (publisher instanceof FencedPublisher fenced && fenced.dataSource() == dataSource) {
                // The log lives in this database: appending to it is fenced by the same lease.
                fenced.fence(logFence);
            }
            this.tables = t;
        }
    }

    private boolean holdLease() throws SQLException {
        long now = System.nanoTime();
        if (leader && now - lastRenewNanos < leaseDuration.toNanos() / 3) {
            return true;
        }
        try (Connection c = Jdbc.connect(dataSource, "the lease of relay " + source)) {
            c.setAutoCommit(true);
            OptionalLong held = lease.tryAcquire(c);
            if (held.isPresent()) {
                if (!leader || epoch != held.getAsLong()) {
                    log.info("relay {} of outbox {} is the leader (epoch {})", owner, source, held.getAsLong());
                }
                epoch = held.getAsLong();
                leader = true;
                lastRenewNanos = now;
                return true;
            }
            if (leader) {
                log.warn("relay {} of outbox {} lost its lease (epoch {})", owner, source, epoch);
            }
            leader = false;
            return false;
        }
    }

    /** @return rows relayed and deleted */
    private int relayBatch() throws SQLException, InterruptedException {
        List<OutboxBatch.Row> rows;
        try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
            c.setAutoCommit(true);
            rows = OutboxBatch.read(c, tables, source, batchSize);
        }
        if (rows.isEmpty()) {
            lastFailure = null;
            return 0;
        }
        batchSizes.record(rows.size());
        List<CompletableFuture<Void>> sends = new ArrayList<>(rows.size());
        // Keys go out in parallel, but a key's rows go one after another: a row is sent only once the
        // previous row of its key is confirmed. Sent all at once, a failed earlier row (a log transaction
        // that rolled back, a broker error) could leave a later row of the key published before it, and
        // consumers would see K2, K1, K2. If the earlier row failed, the later ones are not sent at all.
        Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
        for (OutboxBatch.Row row : rows) {
            String key = row.event().key();
            CompletableFuture<Void> previous = lastOfKey.get(key);
            CompletableFuture<Void> sent = previous == null
                    ? send(row)
                    : previous.handle((ok, failure) -> failure).thenCompose(failure -> failure == null
                            ? send(row)
                            : CompletableFuture.failedFuture(new EventsyncException("not sent: an earlier event of key "
                                    + key + " in the same batch failed", failure)));
            lastOfKey.put(key, sent);
            sends.add(sent);
        }
        List<Long> confirmed = awaitConfirmed(rows, sends);
        if (confirmed.isEmpty()) {
            throw new EventsyncException("relay of outbox " + source + ": no event of the batch was confirmed by the transport");
        }
        if (!deleteFenced(confirmed)) {
            return 0;
        }
        published.increment(confirmed.size());
        if (confirmed.size() < rows.size()) {
            throw new EventsyncException("relay of outbox " + source + ": " + (rows.size() - confirmed.size())
                    + " events of the batch were not confirmed; they stay in the outbox and are sent again");
        }
        lastFailure = null;
        return confirmed.size();
    }

    private CompletableFuture<Void> send(OutboxBatch.Row row) {
        try {
            return publisher.send(row.event());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * The ids that may be deleted: confirmed, and no earlier row of the same key in this batch failed
     * (that one is sent again, and its successors must follow it, not precede it).
     */
    private List<Long> awaitConfirmed(List<OutboxBatch.Row> rows, List<CompletableFuture<Void>> sends)
            throws InterruptedException {
        long deadline = System.nanoTime() + sendTimeout.toNanos();
        Set<String> failedKeys = new HashSet<>();
        List<Long> confirmed = new ArrayList<>(rows.size());
        long nowMillis = System.currentTimeMillis();
        for (int i = 0; i < rows.size(); i++) {
            OutboxBatch.Row row = rows.get(i);
            String key = row.event().key();
            try {
                sends.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (!failedKeys.contains(key)) {
                    confirmed.add(row.id());
                    var time = row.event().envelope().getTime();
                    if (time.getSeconds() > 0) {
                        lag.record(Math.max(0, nowMillis - time.getSeconds() * 1000 - time.getNanos() / 1_000_000),
                                TimeUnit.MILLISECONDS);
                    }
                }
            } catch (ExecutionException | TimeoutException e) {
                failedKeys.add(key);
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                log.warn("relay of outbox {}: send of event {} (subject {}, position {}) failed, it stays in the outbox: {}",
                        source, row.event().envelope().getId(), row.subject(), row.id(), String.valueOf(cause));
            }
        }
        return confirmed;
    }

    private boolean deleteFenced(List<Long> ids) throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the relay of outbox " + source)) {
            c.setAutoCommit(false);
            try {
                if (!lease.fence(c, epoch)) {
                    c.rollback();
                    leader = false;
                    log.warn("relay {} of outbox {} lost its lease (epoch {}) before deleting {} published rows;"
                            + " the new leader publishes them again", owner, source, epoch, ids.size());
                    return false;
                }
                OutboxBatch.delete(c, tables, ids);
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

    private void releaseLease() {
        if (!leader || lease == null) {
            return;
        }
        leader = false;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            lease.release(c, epoch);
        } catch (SQLException | RuntimeException e) {
            log.debug("relay {} could not release its lease; it expires by itself: {}", owner, e.getMessage());
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
        private String owner;
        private MeterRegistry registry = Metrics.globalRegistry;

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

        /** A name for this relay in the lease table and logs; default source + random UUID. */
        public Builder owner(String owner) { this.owner = owner; return this; }

        public Builder meterRegistry(MeterRegistry registry) { this.registry = registry; return this; }

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
