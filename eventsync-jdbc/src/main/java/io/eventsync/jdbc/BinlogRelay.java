package io.eventsync.jdbc;

import com.github.shyiko.mysql.binlog.event.Event;
import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.internal.Backoff;
import io.eventsync.internal.Tracing;
import io.eventsync.jdbc.internal.BinlogPosition;
import io.eventsync.jdbc.internal.BinlogPositions;
import io.eventsync.jdbc.internal.BinlogReplica;
import io.eventsync.jdbc.internal.BinlogSession;
import io.eventsync.jdbc.internal.BinlogStream;
import io.eventsync.jdbc.internal.Fence;
import io.eventsync.jdbc.internal.FencedPublisher;
import io.eventsync.jdbc.internal.HeldLease;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.LeasedLoop;
import io.eventsync.jdbc.internal.OutboxBatch;
import io.eventsync.jdbc.internal.RelayHeartbeat;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.WalWindow;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the events of one source from a MariaDB/MySQL binary log to a transport: the writers insert
 * the outbox row as for the query {@link Relay} ({@link Outbox#append}), and the relay reads the insert
 * from the binlog (row format) through a binlog dump connection instead of querying the table. The same
 * {@link Publisher} side as the other relays. See BINLOG.md.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Events leave in binlog order, which is commit order: a transaction that commits late comes after
 *       those that committed before it and is never skipped; a rolled-back one is not in the binlog.</li>
 *   <li>The position stored in {@code eventsync_binlog_position} (the end of a transaction) moves only
 *       past events the transport confirmed, in the relay's fenced transaction; a crash at any point
 *       reads again from there (at least once; the consumers' inbox drops repeats). A key's events are
 *       sent one after another; if one fails, the stream restarts from the stored position.</li>
 *   <li>Rows whose events the transport confirmed are deleted from the outbox in the same fenced
 *       transaction, by primary key, up to {@link BinlogPositions#DELETE_CHUNK} per statement, so the table
 *       stays small and no writer waits for the relay's locks. The relay never reads the table.</li>
 *   <li>One relay per source: a fenced lease ({@code eventsync_lease}, name {@code binlog:<source>}); the
 *       others stand by. A deposed relay cannot store a position (the fence refuses its transaction), and
 *       a new reader's dump, with the same replica server id, makes the server end the old one's.</li>
 *   <li>Every {@code freshnessHeartbeatInterval} (default 1 s) the leader writes a freshness mark (its
 *       row in {@code eventsync_binlog_mark} with the database clock); once every event before the mark
 *       was confirmed, a heartbeat with that time goes to every partition of the topic.</li>
 * </ul>
 *
 * <p>The server must run with {@code log_bin} and {@code binlog_format=ROW} ({@link #build} cannot tell,
 * the relay refuses at start with the setting to change), and the relay's user needs {@code REPLICATION
 * SLAVE} and {@code BINLOG MONITOR} (MySQL: {@code REPLICATION CLIENT}).
 */
public final class BinlogRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BinlogRelay.class);
    /** Events read in one go before the relay drains confirmations and checks its lease. */
    private static final int READ_BURST = 500;

    private final DataSource dataSource;
    private final SchemaNames names;
    private final String source;
    private final Publisher publisher;
    private final Publisher sender;
    private final BinlogReplica replica;
    private final boolean createPosition;
    private final Duration leaseDuration;
    private final Duration sendTimeout;
    private final Duration confirmInterval;
    private final Duration freshnessInterval;
    private final RelayHeartbeat freshness;
    private final int maxInFlight;
    private final String owner;
    private final Counter published;
    private final Counter deadLettered;
    private final Timer lag;
    private final Thread thread;
    private final Fence logFence = c -> this.lease != null && this.lease.fence(c);

    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running;
    /** The stream being read, for {@link #close()} to wake its reader. */
    private volatile BinlogStream stream;
    private volatile boolean streaming;
    private volatile EventsyncException lastFailure;
    private volatile BinlogPosition confirmed;
    private volatile HeldLease lease;
    private Tables tables;
    private int[] outboxColumns;
    private int[] markColumns;

    // Reader thread only, reset on every stream.
    private BinlogSession session;
    private long storedOrdinal;
    private final List<Long> relayedIds = new ArrayList<>();
    /** Rows the transport refused for good, moved to the relay dead letters in the next confirm transaction. */
    private final List<OutboxBatch.Letter> refusedRows = new ArrayList<>();
    private long lastConfirmNanos;
    private long lastMarkNanos;
    private int markFailuresInRow;

    private BinlogRelay(Builder b) {
        this.dataSource = b.dataSource;
        this.names = b.names;
        this.source = b.source;
        this.publisher = b.publisher;
        this.sender = b.tracing ? Tracing.producer(b.publisher) : b.publisher;
        this.replica = b.replica;
        this.createPosition = b.createPosition;
        this.leaseDuration = b.leaseDuration;
        this.sendTimeout = b.sendTimeout;
        this.confirmInterval = b.confirmInterval;
        this.freshnessInterval = b.freshnessHeartbeatInterval;
        this.freshness = new RelayHeartbeat(source, b.publisher, b.freshnessHeartbeatInterval);
        this.maxInFlight = b.maxInFlight;
        this.owner = b.owner != null ? b.owner : source + "-" + UUID.randomUUID();
        MeterRegistry registry = b.registry;
        this.deadLettered = Counter.builder("eventsync.relay.dead_letters").tag("outbox", source)
                .description("rows no transport takes, moved to the relay dead letters").register(registry);
        this.published = Counter.builder("eventsync.relay.published").tag("outbox", source)
                .description("events published and confirmed").register(registry);
        this.lag = Timer.builder("eventsync.relay.lag").tag("outbox", source)
                .description("from the event's time to its confirmed publication").register(registry);
        this.thread = new Thread(this::run, "eventsync-binlog-relay-" + source);
        this.thread.setDaemon(true);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Stores the server's current end of the binlog as the position {@code source}'s relay starts from,
     * unless one is stored; returns the stored position. Writers may switch to this mode after it: only
     * what is committed later is relayed (drain the outbox with the query relay first).
     */
    public static BinlogPosition begin(DataSource dataSource, SchemaNames names, String source) {
        Outbox.of(source, names); // validates source
        try (Connection c = Jdbc.connect(dataSource, "the binlog position of " + source)) {
            c.setAutoCommit(true);
            BinlogPositions.requireRowBinlog(c, Jdbc.urlOf(c));
            Tables t = Tables.resolve(c, names);
            if (BinlogPositions.insertIfAbsent(c, t, source, BinlogPositions.end(c))) {
                log.info("binlog relay of {} starts at the current end of the binlog", source);
            }
            return BinlogPositions.load(c, t, source).orElseThrow();
        } catch (SQLException e) {
            throw new EventsyncException("cannot store the binlog position of " + source + ": " + e.getMessage(), e);
        }
    }

    /**
     * Refuses a database where the binlog relay cannot work: not MariaDB/MySQL, {@code log_bin} off, or
     * {@code binlog_format} other than ROW; the message names the setting to change.
     */
    public static void requireRowBinlog(DataSource dataSource) {
        try (Connection c = Jdbc.connect(dataSource, "the binlog relay's check")) {
            BinlogPositions.requireRowBinlog(c, Jdbc.urlOf(c));
        } catch (SQLException e) {
            throw new EventsyncException("cannot read the binlog settings: " + e.getMessage(), e);
        }
    }

    public BinlogRelay start() {
        running = true;
        thread.start();
        return this;
    }

    /** True while this relay holds the source's lease. */
    public boolean isLeader() {
        HeldLease l = lease;
        return l != null && l.isLeader();
    }

    /** True while this relay reads the binlog. */
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

    /** The position this relay last stored (empty before the first). */
    public Optional<BinlogPosition> confirmedPosition() {
        return Optional.ofNullable(confirmed);
    }

    /** The last failure (connection, binlog, send), cleared when the relay streams and confirms again. */
    public Optional<EventsyncException> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /**
     * Stops: waits up to the send timeout for the events in flight, stores what was confirmed, ends the
     * stream and gives the lease up so a standby takes over at once. The publisher belongs to the caller.
     */
    @Override
    public void close() {
        if (!running) {
            return;
        }
        running = false;
        stopped.countDown();
        BinlogStream s = stream;
        if (s != null) {
            s.wake();
        }
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
            fenced.unfence(logFence);
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
                    fail(Jdbc.failure(tables, "the binlog relay of " + source, tables == null ? source
                            : tables.name("binlog_position"), e), retry.next().toMillis());
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
        log.error("binlog relay of {} failed, retrying in {} ms: {}", source, retryMillis, e.getMessage(),
                log.isDebugEnabled() ? e : null);
        pause(retryMillis);
    }

    private void pause(long millis) throws InterruptedException {
        stopped.await(millis, TimeUnit.MILLISECONDS);
    }

    /** Checks the server, resolves the tables and columns, stores a first position when asked, prepares the lease. */
    private void bind() throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the binlog relay of " + source)) {
            c.setAutoCommit(true);
            BinlogPositions.requireRowBinlog(c, Jdbc.urlOf(c));
            Tables t = Tables.resolve(c, names);
            outboxColumns = BinlogPositions.columns(c, t, "outbox", "id", "source", "subject", "payload");
            markColumns = BinlogPositions.columns(c, t, "binlog_mark", "source", "marked_micros");
            if (BinlogPositions.load(c, t, source).isEmpty()) {
                if (!createPosition) {
                    throw new ConfigException("no binlog position is stored for source " + source + " in "
                            + t.name("binlog_position") + "; call BinlogRelay.begin (or createPosition(true), relay"
                            + ".create_position: true) before the writers' first event");
                }
                BinlogPositions.insertIfAbsent(c, t, source, BinlogPositions.end(c));
                log.info("binlog relay of {} starts at the current end of the binlog", source);
            }
            this.tables = t;
        }
        if (publisher instanceof FencedPublisher fenced && fenced.dataSource() == dataSource) {
            fenced.fence(logFence); // the log lives in this database: appending to it is fenced by the same lease
        }
        this.lease = new HeldLease(dataSource, tables, "binlog:" + source, owner, leaseDuration, "binlog relay of " + source);
    }

    /** Reads the binlog from the stored position while this relay holds the lease and is running. */
    private void stream() throws SQLException, InterruptedException {
        if (!lease.hold(true)) {
            return;
        }
        BinlogPosition from;
        try (Connection c = Jdbc.connect(dataSource, "the binlog relay of " + source)) {
            from = BinlogPositions.load(c, tables, source).orElseThrow(() -> new ConfigException(
                    "the binlog position of source " + source + " was deleted from " + tables.name("binlog_position")));
        }
        try (BinlogStream s = BinlogStream.open(replica, from, Math.max(1000, maxInFlight), leaseDuration.toMillis() * 3,
                "eventsync-binlog-reader-" + source)) {
            stream = s;
            session = new BinlogSession(tables, source, sender, from, outboxColumns, markColumns, s::wake);
            storedOrdinal = from.ordinal();
            relayedIds.clear();
            confirmed = from;
            streaming = true;
            log.info("binlog relay {} of {} reads the binlog from {}", owner, source, from);
            try {
                if (readWhileLeading(s)) {
                    finish();
                }
            } catch (WalWindow.SendFailed e) {
                confirm(true); // what was confirmed before the failed event stays confirmed
                throw e;
            } finally {
                streaming = false;
                stream = null;
            }
        }
    }

    /**
     * @return true when the relay is closed (it then waits for what is in flight and stores it), false when
     *         it lost its lease or its fence refused: another relay may be storing, so this one stores nothing more
     */
    private boolean readWhileLeading(BinlogStream s) throws SQLException, InterruptedException {
        long renewNanos = leaseDuration.toNanos() / 3;
        long nextRenew = System.nanoTime() + renewNanos;
        lastMarkNanos = System.nanoTime() - freshnessInterval.toNanos(); // a mark at once
        while (running) {
            long now = System.nanoTime();
            if (now - nextRenew >= 0) {
                if (!lease.hold()) {
                    log.warn("binlog relay {} of {} stops reading: it lost the lease", owner, source);
                    return false;
                }
                nextRenew = now + renewNanos;
            }
            if (freshness.enabled() && now - lastMarkNanos >= freshnessInterval.toNanos()) {
                freshnessMark(now);
            }
            // A full window waits for a confirmation (it wakes the stream) instead of reading on.
            Event e = s.poll(TimeUnit.MILLISECONDS.toNanos(session.inFlight() < maxInFlight ? 50 : 5));
            for (int read = 0; e != null && session.inFlight() < maxInFlight && read < READ_BURST; read++) {
                session.handle(e); // a wake-up has no header and is passed over
                e = s.next();
            }
            if (e != null) {
                session.handle(e);
            }
            drain();
            if (!confirm(false)) {
                return false;
            }
            sendFreshness();
        }
        return true;
    }

    private void drain() {
        long now = System.currentTimeMillis();
        session.drain(sendTimeout.toNanos(), event -> {
            published.increment();
            relayedIds.add(event.envelope().getPosition());
            var time = event.envelope().getTime();
            if (time.getSeconds() > 0) {
                lag.record(Math.max(0, now - time.getSeconds() * 1000 - time.getNanos() / 1_000_000), TimeUnit.MILLISECONDS);
            }
        }, this::refused);
    }

    /**
     * An event the transport refused for good: its outbox row moves to the relay dead letters in the next
     * confirm transaction, the same fenced transaction that stores a position past it, so it is never
     * passed without being kept; the relay goes on with the others (the key's later events included).
     */
    private void refused(OutboundEvent event, Throwable failure) {
        PermanentException cause = WalWindow.permanentCause(failure);
        String message = cause == null ? String.valueOf(failure) : cause.getMessage();
        String reason = message != null && message.startsWith("oversize:") ? message
                : "rejected: the transport refused event " + event.envelope().getId() + " for good: " + message;
        refusedRows.add(new OutboxBatch.Letter(event.envelope().getPosition(), reason, 1, 0));
        log.warn("binlog relay of {}: event {} (key {}, position {}) goes to the relay dead letters; the relay goes on"
                + " past it (eventsync dlq list --outbox {}): {}", source, event.envelope().getId(), event.key(),
                event.envelope().getPosition(), source, reason);
    }

    /**
     * Stores the confirmable position and deletes the relayed rows in one fenced transaction, at most
     * every {@code confirmInterval} unless forced, and only while the lease is fresh.
     *
     * @return false when the fence refused: another relay holds the lease, this one stops reading
     */
    private boolean confirm(boolean force) throws SQLException {
        long target = session.confirmable();
        if ((target <= storedOrdinal && relayedIds.isEmpty() && refusedRows.isEmpty()) || !lease.isFresh()) {
            return true;
        }
        long now = System.nanoTime();
        if (!force && now - lastConfirmNanos < confirmInterval.toNanos()) {
            return true;
        }
        lastConfirmNanos = now;
        BinlogPosition position = session.position(target);
        try (Connection c = Jdbc.connect(dataSource, "the binlog relay of " + source)) {
            int isolation = c.getTransactionIsolation();
            c.setAutoCommit(false);
            // No gap locks: the deletes by id lock only the committed rows they remove, never a writer's insert.
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            try {
                if (!lease.fence(c)) {
                    c.rollback();
                    log.warn("binlog relay {} of {} was deposed (lease {}, epoch {}): it stores nothing more", owner,
                            source, lease.name(), lease.epoch());
                    return false;
                }
                if (target > storedOrdinal) {
                    BinlogPositions.advance(c, tables, source, position);
                }
                BinlogPositions.deleteRelayed(c, tables, relayedIds);
                OutboxBatch.moveToDeadLetters(c, tables, refusedRows);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                Jdbc.rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
                c.setTransactionIsolation(isolation); // a pool that does not reset it hands the connection on as it came
            }
        }
        relayedIds.clear();
        deadLettered.increment(refusedRows.size());
        refusedRows.clear();
        storedOrdinal = Math.max(storedOrdinal, target);
        confirmed = session.position(storedOrdinal);
        lastFailure = null;
        return true;
    }

    /** Stopping: waits up to the send timeout for what is in flight, then stores it. */
    private void finish() throws SQLException {
        long deadline = System.nanoTime() + sendTimeout.toNanos();
        BinlogStream s = stream;
        while (!session.isIdle() && System.nanoTime() < deadline) {
            drain();
            try {
                s.poll(TimeUnit.MILLISECONDS.toNanos(5)); // a confirmation wakes it sooner; events wait for the next leader
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (EventsyncException e) {
                break; // the stream ended: what was confirmed is stored below
            }
        }
        drain();
        confirm(true);
    }

    /** Writes a freshness mark into the binlog; the heartbeat for it goes out once every event before it was confirmed. */
    private void freshnessMark(long now) {
        lastMarkNanos = now; // one per interval, whether or not it goes through
        try (Connection c = Jdbc.connect(dataSource, "the freshness mark of binlog relay " + source)) {
            c.setAutoCommit(true);
            BinlogPositions.mark(c, tables, source);
            markFailuresInRow = 0;
        } catch (SQLException | RuntimeException e) {
            if (markFailuresInRow++ % 60 == 0) {
                log.warn("binlog relay of {}: writing a freshness mark failed ({} in a row); events are not affected: {}",
                        source, markFailuresInRow, e.getMessage());
            }
        }
    }

    private void sendFreshness() {
        if (!freshness.enabled() || freshness.sending()) {
            return;
        }
        Instant time = session.confirmedFreshness();
        if (time != null) {
            freshness.send(time, storedOrdinal, System.nanoTime());
        }
    }

    /** Binlog relay settings, validated in {@link #build()}. */
    public static final class Builder {
        private DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private String source;
        private Publisher publisher;
        private String host;
        private int port;
        private String user;
        private String password;
        private Long serverId;
        private BinlogReplica replica;
        private boolean createPosition;
        private Duration leaseDuration = Duration.ofSeconds(10);
        private Duration sendTimeout = Duration.ofSeconds(30);
        private Duration confirmInterval = Duration.ofMillis(100);
        private Duration freshnessHeartbeatInterval = Duration.ofSeconds(1);
        private int maxInFlight = 10_000;
        private String owner;
        private MeterRegistry registry = Metrics.globalRegistry;
        private boolean tracing = true;

        /** The source's MariaDB/MySQL database (outbox, lease, stored position). Required. */
        public Builder dataSource(DataSource dataSource) { this.dataSource = dataSource; return this; }

        /** Where the eventsync tables are. */
        public Builder names(SchemaNames names) { this.names = names; return this; }

        /** The source whose outbox rows are relayed, as given to {@link Outbox#of}. Required. */
        public Builder source(String source) { this.source = source; return this; }

        /** Where events go. Required; owned by the caller. */
        public Builder publisher(Publisher publisher) { this.publisher = publisher; return this; }

        /**
         * Where the binlog client connects (the user needs REPLICATION SLAVE and BINLOG MONITOR). Default:
         * host, port, user and password of the data source when it is a {@code HikariDataSource}.
         */
        public Builder replication(String host, int port, String user, String password) {
            this.host = host;
            this.port = port;
            this.user = user;
            this.password = password;
            return this;
        }

        /**
         * The server id the binlog client registers with; unique among the server's replicas, the same for
         * every relay of one source (a new reader then ends the old one's dump). Default: derived from the
         * source name, in 1,000,000..2,147,483,647.
         */
        public Builder serverId(long serverId) { this.serverId = serverId; return this; }

        /** Store the current end of the binlog as the start when no position is stored yet; default false. */
        public Builder createPosition(boolean createPosition) { this.createPosition = createPosition; return this; }

        /** How long a silent leader keeps the lease; default 10 s. Failover takes up to this long. */
        public Builder leaseDuration(Duration d) { this.leaseDuration = d; return this; }

        /** How long the oldest event in flight may wait for the transport; default 30 s, then the stream restarts. */
        public Builder sendTimeout(Duration d) { this.sendTimeout = d; return this; }

        /** How often the confirmed position is stored and relayed rows deleted; default 100 ms. */
        public Builder confirmInterval(Duration d) { this.confirmInterval = d; return this; }

        /** How often a freshness mark and then a heartbeat go out, also while idle; default 1 s, ZERO: none. */
        public Builder freshnessHeartbeatInterval(Duration d) { this.freshnessHeartbeatInterval = d; return this; }

        /** Events sent and not yet confirmed before the relay stops reading; default 10,000. */
        public Builder maxInFlight(int n) { this.maxInFlight = n; return this; }

        /** A name for this relay in the lease table and logs; default source + random UUID. */
        public Builder owner(String owner) { this.owner = owner; return this; }

        public Builder meterRegistry(MeterRegistry registry) { this.registry = registry; return this; }

        /** Whether a traced event's send is an OpenTelemetry PRODUCER span (see {@link WalRelay.Builder#tracing}). */
        public Builder tracing(boolean enabled) { this.tracing = enabled; return this; }

        public BinlogRelay build() {
            if (dataSource == null) {
                throw new ConfigException("dataSource is required");
            }
            if (publisher == null) {
                throw new ConfigException("publisher is required");
            }
            Outbox.of(source, Objects.requireNonNull(names, "names")); // validates source
            long id = serverId != null ? serverId : BinlogReplica.defaultServerId(source);
            replica = host != null ? new BinlogReplica(host, port, user, password, id) : BinlogReplica.of(dataSource, id);
            requirePositive("leaseDuration", leaseDuration);
            requirePositive("sendTimeout", sendTimeout);
            requirePositive("confirmInterval", confirmInterval);
            if (freshnessHeartbeatInterval == null || freshnessHeartbeatInterval.isNegative()) {
                throw new ConfigException("freshnessHeartbeatInterval must be zero (none) or positive, but was: "
                        + freshnessHeartbeatInterval);
            }
            if (maxInFlight < 1 || maxInFlight > 1_000_000) {
                throw new ConfigException("maxInFlight must be 1..1000000, but was: " + maxInFlight);
            }
            if (owner != null && (owner.isBlank() || owner.length() > 200)) {
                throw new ConfigException("owner must be 1-200 characters, but was: " + owner);
            }
            Objects.requireNonNull(registry, "meterRegistry");
            return new BinlogRelay(this);
        }

        private static void requirePositive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigException(field + " must be positive, but was: " + d);
            }
        }
    }
}
