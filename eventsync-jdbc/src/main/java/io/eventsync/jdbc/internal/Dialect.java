package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * Everything that differs between PostgreSQL, MariaDB/MySQL and H2: quoting, time arithmetic,
 * upserts, generated keys, notifications and the DDL file. Every SQL statement eventsync runs is
 * built by a method of a dialect, so each statement lives in exactly one place; table names come
 * from {@link Tables} (validated, quoted), values are always bind parameters.
 */
public interface Dialect {

    Dialect POSTGRES = new PostgresDialect();
    Dialect MARIADB = new MariaDbDialect();
    Dialect H2 = new H2Dialect();

    /** {@code postgresql}, {@code mariadb} or {@code h2}: also the DDL resource folder. */
    String name();

    /** Validates {@code identifier} (see {@link Identifiers}) and quotes it. */
    String quote(String identifier);

    /** An SQL expression for the database's current time (UTC where the type has no zone). */
    String now();

    /** The database's clock; read with {@link #instant}. */
    default String selectNow() {
        return "SELECT " + now();
    }

    /** Binds an instant (or NULL) to a time column: zoned as UTC, MariaDB's DATETIME as UTC (see {@link #now()}). */
    default void setInstant(java.sql.PreparedStatement ps, int index, java.time.Instant value) throws SQLException {
        if (value == null) {
            ps.setNull(index, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
            return;
        }
        ps.setObject(index, value.atOffset(java.time.ZoneOffset.UTC));
    }

    /** An SQL expression with one bind parameter: now plus that many milliseconds (may be negative). */
    String nowPlusMillis();

    /** The schema (MariaDB: database) unqualified names resolve to on this connection. */
    String currentSchema(Connection connection) throws SQLException;

    /**
     * The classpath resources holding this dialect's DDL, in the order to run them, with
     * {@code ${schema}}/{@code ${prefix}} placeholders. A change to the schema is a new file, never an edit
     * of a shipped one: an install that ran V1 through Flyway must be able to run V2 as a new migration.
     */
    default java.util.List<String> schemaResources() {
        String dir = "io/eventsync/jdbc/schema/" + name() + "/";
        return java.util.List.of(dir + "V1__eventsync.sql", dir + "V2__freshness_partition.sql");
    }

    /**
     * True for a database in the JVM's own process (H2 embedded): a statement costs no round trip, so a
     * batch looks keys up one by one with one cached statement rather than with a long IN list.
     */
    /**
     * Whether a deadlock (or another error the handler may catch) rolls the whole transaction back while
     * the connection goes on in a new one (MariaDB/InnoDB, H2), so that a handler that swallows it would
     * let the apply commit without the inbox rows and writes before it. PostgreSQL refuses every later
     * statement of a failed transaction, and the driver refuses its commit.
     */
    default boolean losesTransactionSilently() {
        return false;
    }

    default boolean inProcess() {
        return false;
    }

    /**
     * True where a JDBC batch of the copy tables' guarded updates costs one round trip and reports each
     * statement's count (PostgreSQL): a batched apply then sends them together ({@code CopyWrites}).
     */
    default boolean batchesCopyWrites() {
        return false;
    }

    /**
     * The same insert with the rows' values as arrays, one statement text for any number of rows; params:
     * subscription, applied_at, event_ids (varchar[]), sources (varchar[]), source_positions (bigint[]).
     * Null when the dialect has no arrays (then {@link #insertInboxReturningFresh}).
     */
    default String insertInboxArraysReturningFresh(Tables t) {
        return null;
    }

    /**
     * An insert of {@code rows} inbox rows (subscription, event_id, source, source_position, applied_at)
     * that skips the rows already there and returns the {@code event_id} of those it inserted, or null
     * when the dialect has none (then a batch looks the ids up first). A lookup would depend on the
     * planner, which may keep a plan made while the inbox was empty; the insert checks the key itself.
     */
    default String insertInboxReturningFresh(Tables t, int rows) {
        return null;
    }

    /** True on PostgreSQL: the outbox NOTIFYs and the relay LISTENs. */
    default boolean supportsNotify() {
        return false;
    }

    /** Params: channel. Queues a notification delivered at commit; null where there is none. */
    default String notifySql() {
        return null;
    }

    /**
     * Params: source, channel. Records the channel the relay of {@code source} listens on, for the
     * schema's {@code <prefix>notify(source)} function; null where there is no NOTIFY.
     */
    default String upsertNotifyChannel(Tables t) {
        return null;
    }

    /** A unique or primary key violation (SQLState class 23 with the vendor's duplicate code). */
    boolean isDuplicateKey(SQLException e);

    /** The statement referred to a table (or schema) that does not exist. */
    boolean isMissingTable(SQLException e);

    /** Whether a retry can fix {@code e}: the rules of every dialect are in {@link SqlErrors}. */
    default SqlErrors.Kind classify(SQLException e) {
        return SqlErrors.classify(this, e);
    }

    // ---- outbox -------------------------------------------------------------------------------

    /**
     * Inserts one outbox row on the caller's connection (inside the caller's transaction) and returns
     * its generated id. On PostgreSQL the same statement NOTIFYs {@code channel} (unless null), delivered at commit.
     */
    long insertOutbox(Connection c, Tables t, String channel, OutboxRow row) throws SQLException;

    /** Params: source, limit. Columns: id, subject, event_id, event_type, payload. Oldest id first. */
    default String selectOutboxBatch(Tables t) {
        return selectOutboxBatch(t, 0, false);
    }

    /**
     * Params: source, {@code excludedKeys} keys, limit. Columns as {@link #selectOutboxBatch(Tables)}.
     * Leaves out the rows whose key ({@code subject}) is one of the given keys and, with
     * {@code skipParked}, the rows of every key that has a relay dead letter.
     */
    String selectOutboxBatch(Tables t, int excludedKeys, boolean skipParked);

    /** Params: id. */
    String deleteOutboxRow(Tables t);

    /** Params: {@code n} ids (a repeated id is harmless). Deletes those outbox rows in one statement. */
    String deleteOutboxRows(Tables t, int n);

    // ---- relay dead letters (outbox_dead_letters) ---------------------------------------------

    /**
     * Params: reason, attempts, milliseconds since the first failure (negated: zero or less), id.
     * Copies outbox row {@code id} into the relay dead letters; the caller deletes the row in the same
     * transaction. Copied inside the database, so the payload never travels.
     */
    String insertOutboxDeadLetter(Tables t);

    /**
     * Params: source (then id for one letter). Columns: id, event_id, event_key, event_type,
     * event_sequence, payload, reason, attempts, first_failure, last_failure. Oldest id first.
     */
    String selectOutboxDeadLetters(Tables t, boolean oneId);

    /** Params: source, id. Copies a letter back into the outbox under its own id. */
    String restoreOutboxDeadLetter(Tables t);

    /** Params: source, id. */
    String deleteOutboxDeadLetter(Tables t);

    /** Params: source. Columns: count. */
    String countOutboxDeadLetters(Tables t);

    /** A time column as an instant (null for NULL): zoned columns as stored, MariaDB's DATETIME as UTC (see {@link #now()}). */
    default java.time.Instant instant(java.sql.ResultSet rs, int column) throws SQLException {
        java.time.OffsetDateTime t = rs.getObject(column, java.time.OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** Params: source, subject. Columns: the greatest id of the subject's rows still in the outbox (NULL if none). */
    String selectPendingPosition(Tables t);

    // ---- lease --------------------------------------------------------------------------------

    /** Params: name, owner, duration millis. Fails with a duplicate key when the lease exists. */
    String insertLease(Tables t);

    /**
     * Params: owner, owner, duration millis, name, owner. Renews the lease when {@code owner} holds
     * it, takes it over (epoch + 1) when it has expired, changes nothing otherwise. The epoch is
     * assigned first because MariaDB evaluates SET assignments left to right on the new values.
     */
    String acquireLease(Tables t);

    /** Params: name. Columns: owner, epoch. */
    String selectLease(Tables t);

    /**
     * Params: name. Columns: owner, epoch. Locks the lease row until the transaction ends: a write
     * in that transaction is fenced, because a takeover must wait for the lock and then bumps the epoch.
     */
    String lockLease(Tables t);

    /** Params: name, owner, epoch. Lets the lease expire now. */
    String releaseLease(Tables t);

    // ---- embedded log -------------------------------------------------------------------------

    /** Params: topic. Columns: next_offset. Serializes writers of one topic: offsets are gapless. */
    String lockLogHead(Tables t);

    /** Params: topic. Starts a topic at offset 0. */
    String insertLogHead(Tables t);

    /** Params: next_offset, topic. */
    String updateLogHead(Tables t);

    /** Inserts {@code n} log entries in one statement; params per entry: topic, log_offset, event_key, event_id, payload. */
    String insertLogEntries(Tables t, int n);

    /** Params: topic. Columns: next_offset, the offset the next entry gets (no row: an empty topic). Takes no lock. */
    String selectLogHead(Tables t);

    /** Params: topic, from offset, limit. Columns: log_offset, payload, event_key. */
    String selectLogBatch(Tables t);

    /** Params: topic. Columns: min(next_offset), count(*). */
    String selectSlowestGroup(Tables t);

    /** Columns: topic. */
    String selectLogTopics(Tables t);

    /**
     * Params: topic, offset below which entries may go, minus age millis (negative). Retention bounds
     * each statement by passing at most a batch above the topic's oldest offset.
     */
    String deleteRetainedLog(Tables t);

    // ---- positions ----------------------------------------------------------------------------

    /**
     * Inserts or raises a position row: {@code valueColumn} becomes the greater of the stored and the
     * new value (a late or stale writer never moves a position backwards). Params: the key columns
     * in order, then the value. A concurrent first insert may fail with a duplicate key: retry once.
     */
    String upsertMax(String table, List<String> keyColumns, String valueColumn, String timeColumn);

    /** Params: group, topic, partition. Columns: next_offset. */
    String selectOffset(Tables t);

    // ---- freshness (FreshnessTable) -----------------------------------------------------------

    /**
     * Params: subscription, source, partition_name, source_time, applied_at (null: no heartbeat applied yet),
     * lag_events (null: unknown), recorded_at. Inserts the partition's row or overwrites it.
     */
    String upsertPartitionFreshness(Tables t);

    /**
     * Params: subscription. Columns: source, partition_name, source_time, applied_at, lag_events, recorded_at;
     * by source and partition.
     */
    String selectPartitionFreshness(Tables t);

    /** Params: subscription. Columns: source, source_time, applied_at; by source. The table before V2, read only. */
    String selectFreshness(Tables t);

    // ---- copy tables (CopyTable) --------------------------------------------------------------

    /**
     * Inserts a copy row, or updates it only when the stored version is lower than the new one (the
     * version guard: a stale or racing writer never moves a row backwards). Column names arrive
     * quoted. Params: the key columns, the value columns, then the version; {@code types} is the SQL
     * type of each param in that order (H2 needs them to type its VALUES row).
     */
    String upsertVersioned(String table, List<String> keys, List<String> values, String version, List<String> types);

    /**
     * Params: copy_table, row_key, version, deleted_at. Records (or moves up) the version at which a copy
     * row was deleted, and when.
     */
    String upsertTombstone(String table);

    // ---- retention ----------------------------------------------------------------------------

    /**
     * Deletes at most {@code limit} rows of {@code table} whose {@code timeColumn} is before a cutoff
     * and, unless {@code keyColumn} is null, whose {@code keyColumn} equals a value. Params: [the key
     * value], the cutoff. Run in autocommit, one short transaction per call, so retention never holds
     * many locks on a busy table for long; call it again until it deletes fewer than {@code limit}.
     */
    String deleteOlderThan(String table, String keyColumn, String timeColumn, int limit);

    /** Params: topic. Columns: the topic's lowest log_offset (NULL when it has no entries). */
    String selectOldestLogOffset(Tables t);

    // ---- detection ----------------------------------------------------------------------------

    /** The dialect of a JDBC URL ({@code jdbc:postgresql:}, {@code jdbc:mariadb:}, {@code jdbc:mysql:}, {@code jdbc:h2:}). */
    static Dialect forUrl(String url) {
        String u = url == null ? "" : url.toLowerCase(Locale.ROOT);
        if (u.startsWith("jdbc:postgresql:")) {
            return POSTGRES;
        }
        if (u.startsWith("jdbc:mariadb:") || u.startsWith("jdbc:mysql:")) {
            return MARIADB;
        }
        if (u.startsWith("jdbc:h2:")) {
            return H2;
        }
        throw new ConfigException("unsupported database URL " + Jdbc.redact(url)
                + ": eventsync supports jdbc:postgresql:, jdbc:mariadb:, jdbc:mysql: and jdbc:h2:");
    }

    /** The dialect of an open connection, from its metadata. */
    static Dialect of(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("postgres")) {
            return POSTGRES;
        }
        if (product.contains("mariadb") || product.contains("mysql")) {
            return MARIADB;
        }
        if (product.equals("h2")) {
            return H2;
        }
        return forUrl(connection.getMetaData().getURL());
    }
}
