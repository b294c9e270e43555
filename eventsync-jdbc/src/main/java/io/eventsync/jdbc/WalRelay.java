package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.internal.Backoff;
import io.eventsync.internal.Tracing;
import io.eventsync.jdbc.internal.Fence;
import io.eventsync.jdbc.internal.FencedPublisher;
import io.eventsync.jdbc.internal.HeldLease;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.LeasedLoop;
import io.eventsync.jdbc.internal.Pools;
import io.eventsync.jdbc.internal.RelayHeartbeat;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.WalSession;
import io.eventsync.jdbc.internal.WalStream;
import io.eventsync.jdbc.internal.WalWindow;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the events of one source from PostgreSQL's write-ahead log to a transport, through a logical
 * replication slot decoded with {@code pgoutput}: the relay mode where a writer pays one WAL record per
 * event ({@link WalOutbox}) and nothing is read back from a table. The same {@link Publisher} side as
 * the query {@link Relay}.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Events leave in commit order, the order in which transactions are decoded: a transaction that
 *       commits late is published after those that committed before it, never skipped, and a key's
 *       events need no re-ordering. A rolled-back transaction is never decoded.</li>
 *   <li>The slot's confirmed position moves only past events the transport confirmed, so a crash at any
 *       point sends the unconfirmed ones again (at least once; the consumer's inbox drops repeats). A
 *       key's events are sent one after another; if one fails, the stream restarts from it.</li>
 *   <li>One relay per slot: a fenced lease ({@code eventsync_lease}, name {@code wal:<slot>}) makes one
 *       instance the reader; the others are standbys that take over when it dies. The new reader ends
 *       whatever backend still reads the slot before it starts, so a deposed relay can confirm nothing
 *       after that; an embedded-log publisher in the same database is fenced by the lease as well.</li>
 *   <li>When idle it still advances the slot: positions between transactions are confirmed, and a
 *       heartbeat message every {@code heartbeatInterval} without traffic gives it a fresh one, so the
 *       server does not keep WAL behind an idle or filtered slot.</li>
 *   <li>Every {@code freshnessHeartbeatInterval} (default 1 s), also when idle, it writes a freshness
 *       mark into the WAL: a message carrying the database clock read as it was written. Once the slot
 *       could be confirmed past the mark (every event committed before it was confirmed), a
 *       {@link io.eventsync.envelope.Heartbeats heartbeat} with that time goes to every partition of the
 *       topic, so consumers measure their copy's freshness. A heartbeat is never waited for and never
 *       fails the relay. (Not {@code heartbeatInterval}: that one keeps an idle slot advancing.)</li>
 * </ul>
 *
 * <p>A slot that was dropped or invalidated is an error ({@link #lastFailure()}) that says how to
 * recover: the events written while it was missing are not in the WAL any relay can read, so the
 * copies need a new bootstrap. Metrics (tag {@code outbox}): {@code eventsync.relay.published},
 * {@code eventsync.relay.lag} (event time to confirmation), {@code eventsync.relay.slot_lag_bytes}
 * (WAL the server keeps for the slot) and {@code eventsync.relay.slot_lag_seconds} (age of the oldest
 * unconfirmed transaction).
 *
 * <p>The driver has no readiness signal for the replication socket (a blocking read holds the
 * connection, so nothing could be confirmed meanwhile): between messages the reader polls the socket,
 * from 1 ms up to {@code maxPoll} when idle, and a transport confirmation wakes it at once.
 */
public final class WalRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WalRelay.class);
    /** Messages read in one go before the relay drains confirmations and checks its lease. */
    private static final int READ_BURST = 500;

    private final DataSource dataSource;
    private final SchemaNames names;
    private final String source;
    private final String slot;
    private final String publication;
    private final String prefix;
    private final Publisher publisher;
    /** {@link #publisher} as the sessions send through it (traced); the fence and heartbeats use the caller's. */
    private final Publisher sender;
    private final String replicationUrl;
    private final Properties replicationProperties;
    private final boolean createSlot;
    private final Duration leaseDuration;
    private final Duration sendTimeout;
    private final Duration heartbeatInterval;
    private final Duration confirmInterval;
    private final Duration freshnessInterval;
    private final RelayHeartbeat freshness;
    private final Duration maxPoll;
    private final int maxInFlight;
    private final String owner;
    private final Counter published;
    private final Counter deadLettered;
    private final Timer lag;
    private final Thread thread;
    private final Fence logFence = c -> this.lease != null && this.lease.fence(c);

    private volatile boolean running;
    private volatile boolean streaming;
    private volatile EventsyncException lastFailure;
    private volatile long confirmedLsn;
    private volatile long slotLagBytes;
    private volatile long oldestPendingMillis;
    private volatile HeldLease lease;
    private Tables tables;

    // Reader thread only, reset on every stream.
    private WalSession session;
    private long lastMessageNanos;
    private long lastConfirmNanos;
    private long lastFreshnessMarkNanos;
    private int freshnessFailuresInRow;
    /** A relay dead letter was kept: confirm past it at once, so a restart does not read it again. */
    private boolean keptLetter;

    private WalRelay(Builder b) {
        this.dataSource = b.dataSource;
        this.names = b.names;
        this.source = b.source;
        this.slot = b.slot;
        this.publication = b.publication;
        this.prefix = WalOutbox.messagePrefix(b.source);
        this.publisher = b.publisher;
        this.sender = b.tracing ? Tracing.producer(b.publisher) : b.publisher;
        this.replicationUrl = b.replicationUrl;
        this.replicationProperties = b.replicationProperties;
        this.createSlot = b.createSlot;
        this.leaseDuration = b.leaseDuration;
        this.sendTimeout = b.sendTimeout;
        this.heartbeatInterval = b.heartbeatInterval;
        this.confirmInterval = b.confirmInterval;
        this.freshnessInterval = b.freshnessHeartbeatInterval;
        this.freshness = new RelayHeartbeat(source, b.publisher, b.freshnessHeartbeatInterval);
        this.maxPoll = b.maxPoll;
        this.maxInFlight = b.maxInFlight;
        this.owner = b.owner != null ? b.owner : source + "-" + UUID.randomUUID();
        MeterRegistry registry = b.registry;
        this.published = Counter.builder("eventsync.relay.published").tag("outbox", source)
                .description("events published and confirmed").register(registry);
        this.deadLettered = Counter.builder("eventsync.relay.dead_letters").tag("outbox", source)
                .description("events no transport takes, kept as relay dead letters").register(registry);
        this.lag = Timer.builder("eventsync.relay.lag").tag("outbox", source)
                .description("from the event's time to its confirmed publication").register(registry);
        Gauge.builder("eventsync.relay.slot_lag_bytes", this, r -> r.slotLagBytes).tag("outbox", source)
                .tag("slot", slot).baseUnit("bytes")
                .description("WAL the server keeps for the relay's slot (current WAL position minus confirmed)")
                .register(registry);
        Gauge.builder("eventsync.relay.slot_lag_seconds", this, WalRelay::oldestPendingSeconds).tag("outbox", source)
                .tag("slot", slot).baseUnit("seconds")
                .description("age of the oldest transaction read from the slot and not yet confirmed").register(registry);
        this.thread = new Thread(this::run, "eventsync-wal-relay-" + source);
        this.thread.setDaemon(true);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts the relay thread; returns this. */
    public WalRelay start() {
        running = true;
        thread.start();
        return this;
    }

    /** True while this relay holds the slot's lease. */
    public boolean isLeader() {
        HeldLease l = lease;
        return l != null && l.isLeader();
    }

    /** True while this relay reads the slot. */
    public boolean isStreaming() {
        return streaming;
    }

    /** The lease epoch this relay last held; grows with every takeover. */
    public long epoch() {
        HeldLease l = lease;
        return l == null ? 0 : l.epoch();
    }

    public String owner() {
        return owner;
    }

    public String slot() {
        return slot;
    }

    /** The position this relay last confirmed to the slot (0 before the first). */
    public long confirmedLsn() {
        return confirmedLsn;
    }

    /** WAL the server keeps for the slot, as last measured (every few seconds while leading). */
    public long slotLagBytes() {
        return slotLagBytes;
    }

    /** The last failure (connection, slot, send), cleared when the relay streams and confirms again. */
    public Optional<EventsyncException> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /**
     * Stops: waits up to the send timeout for the events in flight, confirms them, ends the stream and
     * gives the lease up so a standby takes over at once. The publisher belongs to the caller.
     */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(sendTimeout.toMillis() + leaseDuration.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(leaseDuration.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (publisher instanceof FencedPublisher fenced) {
            fenced.unfence(logFence); // a relay started later on the same publisher may fence it
        }
    }

    private void run() {
        Backoff.Sequence retry = LeasedLoop.RETRY.sequence();
        try {
            while (running) {
                try {
                    if (tables == null) {
                        bind();
                    }
                    if (!lease.hold()) {
                        pause(leaseDuration.toMillis() / 3);
                        continue;
                    }
                    stream();
                    retry.reset();
                } catch (EventsyncException e) {
                    fail(e, retry.next().toMillis());
                } catch (SQLException e) {
                    fail(WalSlot.failure(e, slot, publication, dataSource, tables, "WAL relay of " + source), retry.next().toMillis());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            streaming = false;
            if (lease != null) {
                lease.release();
            }
        }
    }

    private void fail(EventsyncException e, long retryMillis) throws InterruptedException {
        lastFailure = e;
        log.error("WAL relay of {} (slot {}) failed, retrying in {} ms: {}", source, slot, retryMillis, e.getMessage(),
                log.isDebugEnabled() ? e : null);
        pause(retryMillis);
    }

    private void pause(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (running) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(this, left);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** Checks the database, creates the slot on a first run when asked, and prepares the lease. */
    private void bind() throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the WAL relay of " + source)) {
            WalSlot.requireLogical(c);
            this.tables = Tables.resolve(c, names);
        }
        HeldLease held = new HeldLease(dataSource, tables, "wal:" + slot, owner, leaseDuration, "WAL relay of " + source);
        // Only on a first run: a slot missing after this relay ran was dropped, and quietly creating a new one
        // would skip every event written in between.
        if (createSlot && !held.everHeld() && WalSlot.create(dataSource, names, slot, publication)) {
            log.info("created publication {} and replication slot {} for the outbox of {}", publication, slot, source);
        }
        if (publisher instanceof FencedPublisher fenced && fenced.dataSource() == dataSource) {
            // The log lives in this database: appending to it is fenced by the same lease.
            fenced.fence(logFence);
        }
        this.lease = held;
    }

    /** Reads the slot while this relay holds the lease and is running. */
    private void stream() throws SQLException, InterruptedException {
        // Asked afresh: after its stream was cut, a relay must not trust a renewal from before, or a deposed
        // one would end its successor's stream in turn.
        if (!lease.hold(true)) {
            return;
        }
        WalSlot.Status status;
        try (Connection c = Jdbc.connect(dataSource, "the WAL relay of " + source)) {
            c.setAutoCommit(true);
            // Whoever still reads the slot is deposed (this relay holds the lease), or a connection of this
            // relay not cleaned up yet: it is ended first.
            status = WalSlot.takeOver(c, slot);
        }
        slotLagBytes = status.lagBytes();
        try (WalStream ws = WalStream.open(replicationUrl, replicationProperties, slot, publication,
                status.confirmedLsn(), "eventsync-wal-" + slot)) {
            Thread reader = thread;
            session = new WalSession(tables, source, prefix, sender, status.confirmedLsn(),
                    () -> LockSupport.unpark(reader));
            confirmedLsn = status.confirmedLsn();
            streaming = true;
            log.info("WAL relay {} of {} reads slot {} from {}", owner, source, slot, WalSlot.lsnText(status.confirmedLsn()));
            try {
                readWhileLeading(ws);
                finish(ws);
            } catch (WalWindow.SendFailed e) {
                confirm(ws, true); // what was confirmed before the failed event stays confirmed
                throw e;
            } finally {
                streaming = false;
            }
        }
    }

    private void readWhileLeading(WalStream ws) throws SQLException, InterruptedException {
        Backoff.Sequence idle = Backoff.doubling(Duration.ofMillis(1), maxPoll).sequence();
        long renewNanos = leaseDuration.toNanos() / 3;
        long nextRenew = System.nanoTime() + renewNanos;
        lastMessageNanos = System.nanoTime();
        lastFreshnessMarkNanos = lastMessageNanos - freshnessInterval.toNanos(); // a mark at once
        while (running) {
            long now = System.nanoTime();
            if (now - nextRenew >= 0) {
                if (!lease.hold()) {
                    log.warn("WAL relay {} of {} stops reading slot {}: it lost the lease", owner, source, slot);
                    return;
                }
                refreshLag();
                nextRenew = now + renewNanos;
            }
            if (now - lastMessageNanos >= heartbeatInterval.toNanos()) {
                heartbeat();
            }
            if (freshness.enabled() && now - lastFreshnessMarkNanos >= freshnessInterval.toNanos()) {
                freshnessMark(now);
            }
            int read = 0;
            boolean empty = false;
            while (read < READ_BURST && session.inFlight() < maxInFlight) {
                ByteBuffer message = ws.readPending();
                if (message == null) {
                    empty = true;
                    break;
                }
                session.handle(message);
                read++;
            }
            if (empty) {
                session.caughtUp(ws.lastReceived());
            }
            drain();
            confirm(ws, keptLetter);
            keptLetter = false;
            sendFreshness();
            if (read > 0) {
                lastMessageNanos = System.nanoTime();
                idle.reset();
            } else {
                LockSupport.parkNanos(this, idle.next().toNanos());
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
            }
        }
    }

    private void drain() {
        long now = System.currentTimeMillis();
        session.drain(sendTimeout.toNanos(), event -> {
            published.increment();
            var time = event.envelope().getTime();
            if (time.getSeconds() > 0) {
                lag.record(Math.max(0, now - time.getSeconds() * 1000 - time.getNanos() / 1_000_000), TimeUnit.MILLISECONDS);
            }
        }, this::keepRefused);
        oldestPendingMillis = session.oldestPendingMillis();
    }

    /**
     * An event the transport refused for good becomes a relay dead letter, in a transaction fenced by the
     * lease, before the slot may be confirmed past it; the relay goes on with the others (the key's later
     * events included: the WAL cannot be held back for one key). Throws when it could not be kept.
     */
    private void keepRefused(OutboundEvent event, Throwable failure) {
        PermanentException cause = WalWindow.permanentCause(failure);
        String message = cause == null ? String.valueOf(failure) : cause.getMessage();
        String reason = message != null && message.startsWith("oversize:") ? message
                : "rejected: the transport refused event " + event.envelope().getId() + " for good: " + message;
        try (Connection c = Jdbc.connect(dataSource, "the relay dead letters of " + source)) {
            c.setAutoCommit(false);
            try {
                if (!lease.fence(c)) {
                    c.rollback();
                    throw new EventsyncException("WAL relay " + owner + " of " + source + " lost its lease before keeping"
                            + " refused event " + event.envelope().getId() + "; the new reader reads it again");
                }
                WalSlot.keepRefused(c, tables, source, event, reason);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                Jdbc.rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new EventsyncException("keeping refused event " + event.envelope().getId() + " of " + source
                    + " as a relay dead letter failed: " + e.getMessage(), e);
        }
        deadLettered.increment();
        keptLetter = true;
        log.warn("WAL relay of {}: event {} (key {}, position {}) kept as relay dead letter {}; the relay goes on past"
                + " it (eventsync dlq list --outbox {}): {}", source, event.envelope().getId(), event.key(),
                event.envelope().getPosition(), event.envelope().getPosition(), source, reason);
    }

    /**
     * Confirms what the window allows, at most every {@code confirmInterval} unless forced, and only
     * while the lease is fresh: a relay that cannot renew stops confirming before a successor can start.
     */
    private void confirm(WalStream ws, boolean force) throws SQLException {
        long target = session.confirmable();
        if (target <= ws.confirmed() || !lease.isFresh()) {
            return;
        }
        long now = System.nanoTime();
        if (!force && now - lastConfirmNanos < confirmInterval.toNanos()) {
            return;
        }
        ws.confirm(target);
        lastConfirmNanos = now;
        confirmedLsn = target;
        lastFailure = null;
    }

    /** Stopping: waits up to the send timeout for what is in flight, then confirms it. */
    private void finish(WalStream ws) throws SQLException {
        long deadline = System.nanoTime() + sendTimeout.toNanos();
        while (!session.isIdle() && System.nanoTime() < deadline && !Thread.currentThread().isInterrupted()) {
            drain();
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(5)); // a confirmation unparks it sooner
        }
        drain();
        confirm(ws, true);
    }

    private void heartbeat() {
        lastMessageNanos = System.nanoTime(); // one per interval, whether or not it goes through
        try (Connection c = Jdbc.connect(dataSource, "the heartbeat of WAL relay " + source)) {
            c.setAutoCommit(true);
            WalSlot.heartbeat(c);
        } catch (SQLException | RuntimeException e) {
            log.warn("WAL relay of {}: heartbeat on slot {} failed: {}", source, slot, e.getMessage());
        }
    }

    /** Writes a freshness mark into the WAL; the heartbeat for it goes out once the slot passed it. */
    private void freshnessMark(long now) {
        lastFreshnessMarkNanos = now; // one per interval, whether or not it goes through
        try (Connection c = Jdbc.connect(dataSource, "the freshness mark of WAL relay " + source)) {
            c.setAutoCommit(true);
            WalSlot.freshnessMark(c);
            freshnessFailuresInRow = 0;
        } catch (SQLException | RuntimeException e) {
            // Events keep flowing; the copies' freshness rises until marks go through again.
            if (freshnessFailuresInRow++ % 60 == 0) {
                log.warn("WAL relay of {}: writing a freshness mark failed ({} in a row); events are not affected: {}",
                        source, freshnessFailuresInRow, e.getMessage());
            }
        }
    }

    /** Sends the heartbeat of the newest freshness mark the window confirmed past, unless one is still in flight. */
    private void sendFreshness() {
        if (!freshness.enabled() || freshness.sending()) {
            return;
        }
        Instant time = session.confirmedFreshness();
        if (time != null) {
            freshness.send(time, session.confirmable(), System.nanoTime());
        }
    }

    private void refreshLag() {
        try (Connection c = Jdbc.connect(dataSource, "the slot lag of WAL relay " + source)) {
            WalSlot.status(c, slot).ifPresent(s -> slotLagBytes = s.lagBytes());
        } catch (SQLException | RuntimeException e) {
            log.debug("WAL relay of {}: reading the lag of slot {} failed: {}", source, slot, e.getMessage());
        }
    }

    private double oldestPendingSeconds() {
        long oldest = oldestPendingMillis;
        return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    }

    /** WAL relay settings, validated in {@link #build()}. */
    public static final class Builder {
        private DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private String source;
        private String slot;
        private String publication;
        private Publisher publisher;
        private String replicationUrl;
        private Properties replicationProperties = new Properties();
        private boolean createSlot;
        private Duration leaseDuration = Duration.ofSeconds(10);
        private Duration sendTimeout = Duration.ofSeconds(30);
        private Duration heartbeatInterval = Duration.ofSeconds(10);
        private Duration confirmInterval = Duration.ofMillis(100);
        private Duration freshnessHeartbeatInterval = Duration.ofSeconds(1);
        private Duration maxPoll = Duration.ofMillis(10);
        private int maxInFlight = 10_000;
        private String owner;
        private MeterRegistry registry = Metrics.globalRegistry;
        private boolean tracing = true;

        /** The source's PostgreSQL database (lease table, slot status, heartbeats). Required. */
        public Builder dataSource(DataSource dataSource) { this.dataSource = dataSource; return this; }

        /** Where the eventsync tables are (the lease; the outbox table for row capture). */
        public Builder names(SchemaNames names) { this.names = names; return this; }

        /** The source whose events are relayed, as given to {@link WalOutbox#of}. Required. */
        public Builder source(String source) { this.source = source; return this; }

        /** The replication slot; default {@link WalSlot#defaultSlot}(source). */
        public Builder slot(String slot) { this.slot = slot; return this; }

        /** The publication the slot decodes with; default {@link WalSlot#defaultPublication}(source). */
        public Builder publication(String publication) { this.publication = publication; return this; }

        /** Where events go. Required; owned by the caller. */
        public Builder publisher(Publisher publisher) { this.publisher = publisher; return this; }

        /**
         * How to open the replication connection (the role needs {@code REPLICATION}). Default: the URL,
         * user, password and properties of the data source when it is a {@code HikariDataSource}.
         */
        public Builder replication(String jdbcUrl, Properties properties) {
            this.replicationUrl = jdbcUrl;
            this.replicationProperties = properties == null ? new Properties() : properties;
            return this;
        }

        /** Create the publication and slot when this relay never ran on the database; default false. */
        public Builder createSlot(boolean createSlot) { this.createSlot = createSlot; return this; }

        /** How long a silent leader keeps the lease; default 10 s. Failover takes up to this long. */
        public Builder leaseDuration(Duration d) { this.leaseDuration = d; return this; }

        /** How long the oldest event in flight may wait for the transport; default 30 s, then the stream restarts. */
        public Builder sendTimeout(Duration d) { this.sendTimeout = d; return this; }

        /**
         * After this long without a message from the slot, emit a heartbeat message; default 10 s. It keeps
         * an idle slot advancing (the server frees WAL); consumers never see it. See
         * {@link #freshnessHeartbeatInterval} for the heartbeats copies measure freshness by.
         */
        public Builder heartbeatInterval(Duration d) { this.heartbeatInterval = d; return this; }

        /**
         * How often the leader writes a freshness mark and then sends a heartbeat into every partition of
         * its topic, also while idle, so consumers measure their copy's freshness ({@code
         * Dispatcher.freshness()}); default 1 s, {@link Duration#ZERO} to send none. The query relay's
         * {@code Relay.Builder.heartbeatInterval} means the same.
         */
        public Builder freshnessHeartbeatInterval(Duration d) { this.freshnessHeartbeatInterval = d; return this; }

        /**
         * How often the confirmed position is sent to the server; default 100 ms. It bounds what a crash
         * sends again, not the latency of events.
         */
        public Builder confirmInterval(Duration d) { this.confirmInterval = d; return this; }

        /** Longest idle poll of the replication socket; default 10 ms. */
        public Builder maxPoll(Duration d) { this.maxPoll = d; return this; }

        /** Events sent and not yet confirmed before the relay stops reading; default 10,000. */
        public Builder maxInFlight(int n) { this.maxInFlight = n; return this; }

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

        public WalRelay build() {
            if (dataSource == null) {
                throw new ConfigException("dataSource is required");
            }
            if (publisher == null) {
                throw new ConfigException("publisher is required");
            }
            Outbox.of(source, Objects.requireNonNull(names, "names")); // validates source
            slot = WalSlot.requireSlotName(slot == null ? WalSlot.defaultSlot(source) : slot);
            publication = WalSlot.requirePublicationName(publication == null ? WalSlot.defaultPublication(source) : publication);
            if (replicationUrl == null) {
                Pools.Target target = Pools.target(dataSource).orElseThrow(() -> new ConfigException(
                        "replication(jdbcUrl, properties) is required unless dataSource is a HikariDataSource with a"
                        + " jdbcUrl"));
                replicationUrl = target.url();
                replicationProperties = target.properties();
            }
            if (!replicationUrl.startsWith("jdbc:postgresql:")) {
                throw new ConfigException("the WAL relay needs a jdbc:postgresql: URL, but was: " + Jdbc.redact(replicationUrl)
                        + "; use the query relay (Relay) on other databases");
            }
            requirePositive("leaseDuration", leaseDuration);
            requirePositive("sendTimeout", sendTimeout);
            requirePositive("heartbeatInterval", heartbeatInterval);
            requirePositive("confirmInterval", confirmInterval);
            if (freshnessHeartbeatInterval == null || freshnessHeartbeatInterval.isNegative()) {
                throw new ConfigException("freshnessHeartbeatInterval must be zero (none) or positive, but was: "
                        + freshnessHeartbeatInterval);
            }
            requirePositive("maxPoll", maxPoll);
            if (maxInFlight < 1 || maxInFlight > 1_000_000) {
                throw new ConfigException("maxInFlight must be 1..1000000, but was: " + maxInFlight);
            }
            if (owner != null && (owner.isBlank() || owner.length() > 200)) {
                throw new ConfigException("owner must be 1-200 characters, but was: " + owner);
            }
            Objects.requireNonNull(registry, "meterRegistry");
            return new WalRelay(this);
        }

        private static void requirePositive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigException(field + " must be positive, but was: " + d);
            }
        }
    }
}
