package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.Position;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.InboxSignal;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Purge;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/**
 * The consumer's record of applied events ({@code eventsync_inbox}): one row per (subscription, event id),
 * written in the apply transaction, so an event is applied at most once per subscription even when it
 * is delivered many times. Each row also keeps the event's source and outbox position, which is what
 * {@link #awaitApplied} (read-your-writes across services) waits for.
 *
 * <p>One instance per copy database; share it between the {@link JdbcApplyScope} and callers of
 * {@code awaitApplied} so that waiters in this JVM are woken by the commit instead of polling.
 *
 * <p><b>Dedup window.</b> Rows older than {@link Builder#dedupWindow} (default 7 days) may be deleted
 * by {@link #purge()} (run it from a {@link Retention}, or call it yourself): the table stays as large
 * as the events of one window. An event delivered again after its row was purged is no longer
 * recognised as a duplicate and reaches its handler a second time. A {@link CopyTable} still skips it
 * (its version guard finds the row at that version or newer); a custom handler must be idempotent for
 * such a late duplicate, or the window must be longer than any redelivery can be late (a transport's
 * retention, an offset reset).
 */
public final class Inbox {
    private static final long MAX_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    /** The default dedup window. */
    public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofDays(7);
    /** How long one statement of a batch's inbox insert may wait (for a lock) before the batch gives up. */
    static final int BATCH_STATEMENT_TIMEOUT_SECONDS = 30;
    /** Keys looked up per statement by a batch (see {@link #recordAll}). */
    static final int LOOKUP_CHUNK = 64;

    private final DataSource dataSource;
    private final SchemaNames names;
    private final Duration dedupWindow;
    private final InboxSignal signal = new InboxSignal();
    private volatile Tables tables;
    private volatile String insertSql;
    private volatile String lookupSql;

    private Inbox(Builder b) {
        this.dataSource = b.dataSource;
        this.names = b.names;
        this.dedupWindow = b.dedupWindow;
    }

    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    /**
     * Waits until {@code subscription} has applied the event that the source's outbox gave
     * {@code position}. Returns true as soon as it has (woken by the apply commit in this JVM, by
     * polling with backoff otherwise), false when {@code timeout} passes first.
     *
     * @throws EventsyncException when the copy database cannot be read (the message names it)
     */
    public boolean awaitApplied(Position position, String subscription, Duration timeout)
            throws InterruptedException {
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(subscription, "subscription");
        long deadline = System.nanoTime() + timeout.toNanos();
        InboxSignal.Key key = new InboxSignal.Key(subscription, position.source(), position.value());
        long pollNanos = TimeUnit.MILLISECONDS.toNanos(1);
        while (true) {
            // Register before reading, so a commit between the read and the wait still wakes us.
            CountDownLatch latch = signal.register(key);
            try {
                if (isApplied(position, subscription)) {
                    return true;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                latch.await(Math.min(left, pollNanos), TimeUnit.NANOSECONDS);
                pollNanos = Math.min(pollNanos * 2, MAX_POLL_NANOS);
            } finally {
                signal.unregister(key, latch);
            }
        }
    }

    /**
     * Like {@link #awaitApplied} but throws a {@link EventsyncException} naming the position, the
     * subscription and the timeout when it passes.
     */
    public void requireApplied(Position position, String subscription, Duration timeout)
            throws InterruptedException {
        if (!awaitApplied(position, subscription, timeout)) {
            throw new EventsyncException("event at position " + position + " was not applied by subscription '"
                    + subscription + "' within " + timeout + "; the consumer may be stopped, lagging or parked"
                    + " on a dead letter (check the dead letters of '" + subscription + "')");
        }
    }

    /** True when {@code subscription} has applied the event at {@code position}. */
    public boolean isApplied(Position position, String subscription) {
        try (Connection c = Jdbc.connect(dataSource, "reading the inbox")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + tables(c).inbox()
                    + " WHERE subscription = ? AND source = ? AND source_position = ?")) {
                ps.setString(1, subscription);
                ps.setString(2, position.source());
                ps.setLong(3, position.value());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "checking position " + position + " of subscription '" + subscription + "'",
                    table(), e);
        }
    }

    /** True when {@code subscription} has applied the event with id {@code eventId}. */
    public boolean contains(String subscription, String eventId) {
        try (Connection c = Jdbc.connect(dataSource, "reading the inbox")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + tables(c).inbox()
                    + " WHERE subscription = ? AND event_id = ?")) {
                ps.setString(1, subscription);
                ps.setString(2, eventId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "reading the inbox of subscription '" + subscription + "'", table(), e);
        }
    }

    /**
     * Inserts the inbox row of {@code envelope} on the apply transaction's connection. Returns false
     * (and leaves the transaction to be rolled back) when the row exists: the event was applied before.
     */
    boolean record(Connection c, String subscription, Envelope envelope) throws SQLException {
        Tables t = tables(c);
        String sql = insertSql;
        if (sql == null) {
            sql = "INSERT INTO " + t.inbox()
                    + " (subscription, event_id, source, source_position, applied_at) VALUES (?, ?, ?, ?, ?)";
            insertSql = sql;
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, subscription);
            ps.setString(2, envelope.getId());
            ps.setString(3, envelope.getSource());
            ps.setLong(4, envelope.getPosition());
            ps.setTimestamp(5, Timestamp.from(Instant.now()));
            ps.executeUpdate();
            return true;
        } catch (SQLException e) {
            if (t.dialect().isDuplicateKey(e)) {
                return false;
            }
            throw Jdbc.failure(t, "recording event " + envelope.getId() + " in the inbox of subscription '"
                    + subscription + "'", t.inbox(), e);
        }
    }

    /**
     * Inserts the inbox rows of a batch on the apply transaction's connection: one query finds the events
     * applied before, one JDBC batch inserts the others. Returns, per envelope, true when its row was
     * inserted (false: a duplicate, already applied). Throws when an insert fails (an event being applied
     * by another instance at the same time, for one): the caller then rolls the whole batch back.
     */
    boolean[] recordAll(Connection c, String subscription, List<Envelope> envelopes) throws SQLException {
        // The watchdog guards handlers, not this: a row locked by another instance's stuck transaction must
        // not hold the batch for ever; after the timeout the batch falls back to single events (watched).
        Tables t = tables(c);
        if (t.dialect().insertInboxReturningFresh(t, 1) != null) {
            return insertReturningFresh(c, t, subscription, envelopes);
        }
        Set<String> applied = new HashSet<>();
        // H2 runs in this process: one cached point query per event costs no round trip (and H2 would read
        // every inbox row of the subscription for "event_id IN (...)", using only the key's first column).
        if (t.dialect().inProcess()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + t.inbox()
                    + " WHERE subscription = ? AND event_id = ?")) {
                for (Envelope envelope : envelopes) {
                    ps.setString(1, subscription);
                    ps.setString(2, envelope.getId());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            applied.add(envelope.getId());
                        }
                    }
                }
            }
            return insertFresh(c, t, subscription, envelopes, applied);
        }
        // Always LOOKUP_CHUNK ids (the last one repeated), so the statement has one text whatever the
        // batch's size (the drivers prepare statements by text).
        String sql = lookupSql;
        if (sql == null) {
            sql = "SELECT event_id FROM " + t.inbox() + " WHERE subscription = ? AND event_id IN ("
                    + String.join(", ", java.util.Collections.nCopies(LOOKUP_CHUNK, "?")) + ")";
            lookupSql = sql;
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setQueryTimeout(BATCH_STATEMENT_TIMEOUT_SECONDS);
            for (int from = 0; from < envelopes.size(); from += LOOKUP_CHUNK) {
                int to = Math.min(envelopes.size(), from + LOOKUP_CHUNK);
                ps.setString(1, subscription);
                for (int i = 0; i < LOOKUP_CHUNK; i++) {
                    ps.setString(i + 2, envelopes.get(Math.min(from + i, to - 1)).getId());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        applied.add(rs.getString(1));
                    }
                }
            }
        }
        return insertFresh(c, t, subscription, envelopes, applied);
    }

    /** One statement per LOOKUP_CHUNK events: the database inserts the new rows and names them. */
    /** How many of {@code events} have their row in this subscription's inbox, as {@code c} sees it. */
    int countPresent(Connection c, String subscription, List<Envelope> events) throws SQLException {
        Tables t = tables(c);
        Set<String> ids = new HashSet<>();
        for (Envelope e : events) {
            ids.add(e.getId());
        }
        List<String> distinct = new ArrayList<>(ids);
        int present = 0;
        if (t.dialect().inProcess()) { // H2: cached point queries (an IN list would read the subscription's rows)
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + t.inbox()
                    + " WHERE subscription = ? AND event_id = ?")) {
                for (String id : distinct) {
                    ps.setString(1, subscription);
                    ps.setString(2, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        present += rs.next() ? 1 : 0;
                    }
                }
            }
            return present;
        }
        // LOOKUP_CHUNK ids per statement (the last one repeated), so the statement has one text.
        String sql = "SELECT COUNT(*) FROM " + t.inbox() + " WHERE subscription = ? AND event_id IN ("
                + String.join(", ", java.util.Collections.nCopies(LOOKUP_CHUNK, "?")) + ")";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setQueryTimeout(BATCH_STATEMENT_TIMEOUT_SECONDS);
            for (int from = 0; from < distinct.size(); from += LOOKUP_CHUNK) {
                int to = Math.min(distinct.size(), from + LOOKUP_CHUNK);
                ps.setString(1, subscription);
                for (int i = 0; i < LOOKUP_CHUNK; i++) {
                    ps.setString(i + 2, distinct.get(Math.min(from + i, to - 1)));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    present += rs.getInt(1);
                }
            }
        }
        return present;
    }

    private static boolean[] insertReturningFresh(Connection c, Tables t, String subscription, List<Envelope> envelopes)
            throws SQLException {
        boolean[] fresh = new boolean[envelopes.size()];
        Timestamp now = Timestamp.from(Instant.now());
        String arrays = t.dialect().insertInboxArraysReturningFresh(t);
        if (arrays != null) {
            // One statement, one text, whatever the batch's size (a text per row count would be planned anew).
            String[] ids = new String[envelopes.size()];
            String[] sources = new String[ids.length];
            Long[] positions = new Long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                Envelope envelope = envelopes.get(i);
                ids[i] = envelope.getId();
                sources[i] = envelope.getSource();
                positions[i] = envelope.getPosition();
            }
            Set<String> inserted = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(arrays)) {
                ps.setQueryTimeout(BATCH_STATEMENT_TIMEOUT_SECONDS);
                ps.setString(1, subscription);
                ps.setTimestamp(2, now);
                ps.setArray(3, c.createArrayOf("varchar", ids));
                ps.setArray(4, c.createArrayOf("varchar", sources));
                ps.setArray(5, c.createArrayOf("int8", positions));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        inserted.add(rs.getString(1));
                    }
                }
            }
            for (int i = 0; i < ids.length; i++) {
                // remove: of two events with one id in a batch only the first is new, as one at a time
                fresh[i] = inserted.remove(ids[i]);
            }
            return fresh;
        }
        for (int from = 0; from < envelopes.size(); from += LOOKUP_CHUNK) {
            int to = Math.min(envelopes.size(), from + LOOKUP_CHUNK);
            Set<String> inserted = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(t.dialect().insertInboxReturningFresh(t, to - from))) {
                ps.setQueryTimeout(BATCH_STATEMENT_TIMEOUT_SECONDS);
                int p = 1;
                for (int i = from; i < to; i++) {
                    Envelope envelope = envelopes.get(i);
                    ps.setString(p++, subscription);
                    ps.setString(p++, envelope.getId());
                    ps.setString(p++, envelope.getSource());
                    ps.setLong(p++, envelope.getPosition());
                    ps.setTimestamp(p++, now);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        inserted.add(rs.getString(1));
                    }
                }
            }
            for (int i = from; i < to; i++) {
                // remove: of two events with one id in a batch only the first is new, as one at a time
                fresh[i] = inserted.remove(envelopes.get(i).getId());
            }
        }
        return fresh;
    }

    private static boolean[] insertFresh(Connection c, Tables t, String subscription, List<Envelope> envelopes,
                                         Set<String> applied) throws SQLException {
        boolean[] fresh = new boolean[envelopes.size()];
        Timestamp now = Timestamp.from(Instant.now());
        int inserts = 0;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.inbox()
                + " (subscription, event_id, source, source_position, applied_at) VALUES (?, ?, ?, ?, ?)")) {
            ps.setQueryTimeout(BATCH_STATEMENT_TIMEOUT_SECONDS);
            for (int i = 0; i < envelopes.size(); i++) {
                Envelope envelope = envelopes.get(i);
                if (applied.contains(envelope.getId())) {
                    continue;
                }
                fresh[i] = true;
                ps.setString(1, subscription);
                ps.setString(2, envelope.getId());
                ps.setString(3, envelope.getSource());
                ps.setLong(4, envelope.getPosition());
                ps.setTimestamp(5, now);
                ps.addBatch();
                inserts++;
            }
            if (inserts > 0) {
                ps.executeBatch();
            }
        }
        return fresh;
    }

    /** How long an applied event's row is kept, so that a redelivery within it is skipped as a duplicate. */
    public Duration dedupWindow() {
        return dedupWindow;
    }

    /**
     * Deletes the rows of every subscription applied longer ago than the dedup window, at most 1,000
     * per statement, each statement its own short transaction, until none is left. Rows inside the
     * window are never touched. Safe while consumers apply (they only insert rows newer than the cutoff).
     *
     * @throws EventsyncException when the copy database cannot be reached (the message names it)
     */
    public Purged purge() {
        return purge(() -> true);
    }

    /** {@link #purge()}, stopping between two statements once {@code goOn} says no. */
    Purged purge(BooleanSupplier goOn) {
        // Same clock as record(), which stamps applied_at from this JVM's clock.
        Timestamp cutoff = Timestamp.from(Instant.now().minus(dedupWindow));
        try (Connection c = Jdbc.connect(dataSource, "purging the inbox")) {
            Tables t = tables(c);
            String sql = t.dialect().deleteOlderThan(t.inbox(), null, "applied_at", Purge.BATCH);
            return Purge.olderThan(c, t.dialect(), t.name("inbox"), sql, null, cutoff, goOn);
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "purging the rows older than the dedup window (" + dedupWindow + ")",
                    table(), e);
        }
    }

    /** Called after the apply transaction committed. */
    void committed(String subscription, Envelope envelope) {
        signal.applied(subscription, envelope.getSource(), envelope.getPosition());
    }

    /** The table's name for messages: qualified once known, else as configured. */
    private String table() {
        Tables t = tables;
        return t != null ? t.inbox() : names.prefix() + "inbox";
    }

    Tables tables(Connection c) throws SQLException {
        Tables t = tables;
        if (t == null) {
            t = Tables.resolve(c, names);
            tables = t;
        }
        return t;
    }

    DataSource dataSource() {
        return dataSource;
    }

    /** The copy database's dialect once a connection resolved it (the first apply does), else null. */
    Dialect dialectIfKnown() {
        Tables t = tables;
        return t == null ? null : t.dialect();
    }

    public static final class Builder {
        private final DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private Duration dedupWindow = DEFAULT_DEDUP_WINDOW;

        private Builder(DataSource dataSource) {
            this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        }

        /** Where the eventsync tables are (schema and prefix); default: the connection's schema, {@code eventsync_}. */
        public Builder schema(SchemaNames names) {
            this.names = Objects.requireNonNull(names, "schema");
            return this;
        }

        /**
         * How long applied events stay recognisable as duplicates; {@link #purge()} deletes older rows.
         * Default 7 days; must be positive. Keep it longer than any redelivery can be late.
         */
        public Builder dedupWindow(Duration dedupWindow) {
            this.dedupWindow = dedupWindow;
            return this;
        }

        public Inbox build() {
            if (dedupWindow == null || dedupWindow.isNegative() || dedupWindow.isZero()) {
                throw new ConfigException("dedupWindow must be positive (how long applied events are kept for"
                        + " deduplication, e.g. 7 days), but was: " + dedupWindow);
            }
            return new Inbox(this);
        }
    }
}
