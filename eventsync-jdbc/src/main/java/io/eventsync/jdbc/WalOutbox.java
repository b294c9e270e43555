package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.Position;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.internal.Tracing;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;

/**
 * The writer's side of the {@link WalRelay} (PostgreSQL, {@code wal_level = logical}): events are
 * written in the caller's transaction, so they commit or roll back with the business change, and
 * the relay reads them from the write-ahead log in commit order. Nothing is left for a relay to query
 * or delete. Two ways to write, both read by the same relay:
 *
 * <ul>
 *   <li>{@link Capture#MESSAGE} (default): {@code SELECT pg_logical_emit_message(true, 'eventsync:<source>',
 *       <envelope bytes>)}, a transactional logical-decoding message: one WAL record, no table, no index.
 *       Any language can write it in plain SQL. The position is the LSN the function returns.</li>
 *   <li>{@link Capture#ROW}: the outbox row of the query relay's table contract, inserted and deleted
 *       again in the same round trip ({@code INSERT ...; DELETE ... WHERE id = lastval()}): the WAL keeps
 *       the insert, which the relay publishes, and the table stays empty. The position is the row id.
 *       For writers that must keep the documented outbox-row contract.</li>
 * </ul>
 *
 * <p>Use one capture per source: the two kinds of position (LSN, row id) are different counters, and
 * {@code awaitApplied} matches a position exactly. {@link #append} never commits, rolls back or
 * changes auto-commit. Thread-safe.
 *
 * <p>As {@link Outbox} does, it stores the W3C context of the span current at {@link #append} with an
 * event that has no {@code traceparent} yet (when the OpenTelemetry API is on the class path).
 */
public final class WalOutbox {
    /** Message prefix of a source's events: {@code eventsync:<source>}. */
    public static final String MESSAGE_PREFIX = "eventsync:";
    /** Room kept for the position field the relay appends to each event (as {@link Outbox} does). */
    private static final int POSITION_STAMP_BYTES = 16;

    /** How an event enters the WAL. */
    public enum Capture { MESSAGE, ROW }

    private final String source;
    private final SchemaNames names;
    private final Capture capture;
    private final int maxEventBytes;
    private final String prefix;
    private volatile String rowSql;
    private volatile boolean checked;

    private WalOutbox(String source, SchemaNames names, Capture capture, int maxEventBytes) {
        this.source = source;
        this.names = names;
        this.capture = capture;
        this.maxEventBytes = maxEventBytes;
        this.prefix = messagePrefix(source);
    }

    /** The WAL outbox of {@code source}, writing logical messages. */
    public static WalOutbox of(String source) {
        return of(source, SchemaNames.defaults());
    }

    /** {@code names} locates the outbox table for {@link Capture#ROW}. */
    public static WalOutbox of(String source, SchemaNames names) {
        Outbox.of(source, Objects.requireNonNull(names, "names")); // validates source
        return new WalOutbox(source, names, Capture.MESSAGE, EnvelopeCodec.DEFAULT_MAX_BYTES);
    }

    public WalOutbox capture(Capture capture) {
        return new WalOutbox(source, names, Objects.requireNonNull(capture, "capture"), maxEventBytes);
    }

    /** Largest event (default 1 MiB); a larger one is refused in the writer's transaction. */
    public WalOutbox maxEventBytes(int maxEventBytes) {
        if (maxEventBytes <= POSITION_STAMP_BYTES) {
            throw new ConfigException("maxEventBytes must be greater than " + POSITION_STAMP_BYTES + ", but was: "
                    + maxEventBytes);
        }
        return new WalOutbox(source, names, capture, maxEventBytes);
    }

    /** {@code eventsync:<source>}: the prefix a plain-SQL writer passes to {@code pg_logical_emit_message}. */
    public static String messagePrefix(String source) {
        return MESSAGE_PREFIX + source;
    }

    public String source() {
        return source;
    }

    public Capture capture() {
        return capture;
    }

    /**
     * Writes the events in the caller's transaction, in order.
     *
     * @return the position of the last event: a consistency token for {@code awaitApplied}
     */
    public Position append(Connection connection, Envelope... events) {
        if (events.length == 0) {
            throw new IllegalArgumentException("append needs at least one event");
        }
        long last = 0;
        for (Envelope e : events) {
            last = write(connection, e, e.toByteArray());
        }
        return new Position(source, last);
    }

    /**
     * Writes an event whose encoded form the caller already has; {@code bytes} are stored as they are
     * (with the current span's trace context appended when {@code envelope} has no traceparent).
     */
    public Position append(Connection connection, Envelope envelope, byte[] bytes) {
        return new Position(source, write(connection, envelope, bytes));
    }

    private long write(Connection c, Envelope e, byte[] bytes) {
        if (e.getId().isEmpty() || e.getSubject().isEmpty()) {
            throw new IllegalArgumentException("an outbox event needs an id and a subject, but id=" + e.getId()
                    + " subject=" + e.getSubject());
        }
        bytes = Tracing.stamp(e, bytes, maxEventBytes - POSITION_STAMP_BYTES);
        if (bytes.length > maxEventBytes - POSITION_STAMP_BYTES) {
            throw new PermanentException("event " + e.getId() + " of " + e.getSubject() + " is " + bytes.length
                    + " bytes, over the outbox limit of " + (maxEventBytes - POSITION_STAMP_BYTES) + " bytes ("
                    + maxEventBytes + " minus " + POSITION_STAMP_BYTES + " for the position the relay adds);"
                    + " make the event smaller or raise maxEventBytes here and on the transport");
        }
        try {
            if (!checked) {
                requireLogical(c);
            }
            return capture == Capture.MESSAGE ? emit(c, bytes) : insertAndDelete(c, e, bytes);
        } catch (SQLException ex) {
            if ("42P01".equals(ex.getSQLState()) || "3F000".equals(ex.getSQLState())) {
                throw new ConfigException("writing event " + e.getId() + " as an outbox row failed: the outbox table"
                        + " does not exist (" + ex.getMessage() + "); install the schema with EventsyncSchema.install", ex);
            }
            throw new EventsyncException("writing event " + e.getId() + " of " + e.getSubject() + " to the WAL ("
                    + capture + ", " + Jdbc.urlOf(c) + ") failed (SQLState " + ex.getSQLState() + "): "
                    + ex.getMessage(), ex);
        }
    }

    /**
     * Once per instance: PostgreSQL accepts logical messages at any wal_level, but below {@code logical}
     * no slot can decode them, and the events would be written where no relay ever reads them.
     */
    private void requireLogical(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT current_setting('wal_level')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (!"logical".equals(rs.getString(1))) {
                throw new ConfigException("the WAL outbox of " + source + " needs wal_level = logical, but "
                        + Jdbc.urlOf(c) + " has wal_level = " + rs.getString(1) + ": no relay could read the events."
                        + " Set wal_level = logical (restart) and create the slot (WalSlot.create), or write with Outbox"
                        + " for the query relay");
            }
        }
        checked = true;
    }

    /** The LSN the function returns is the one the relay reads with the message: the event's position. */
    private long emit(Connection c, byte[] bytes) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT (pg_logical_emit_message(true, ?, ?) - '0/0'::pg_lsn)::bigint")) {
            ps.setString(1, prefix);
            ps.setBytes(2, bytes);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * One round trip, two statements: the DELETE cannot be a CTE of the INSERT (sub-statements of one
     * query do not see each other's rows). {@code lastval()} is the id the INSERT just drew.
     */
    private long insertAndDelete(Connection c, Envelope e, byte[] bytes) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(rowSql(c))) {
            String key = e.getPartitionKey().isEmpty() ? e.getSubject() : e.getPartitionKey();
            ps.setString(1, source);
            ps.setString(2, e.getId());
            ps.setString(3, key);
            ps.setString(4, e.getType());
            ps.setLong(5, e.getSequence());
            ps.setBytes(6, bytes);
            ps.execute();
            try (ResultSet rs = ps.getResultSet()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private String rowSql(Connection c) throws SQLException {
        String sql = rowSql;
        if (sql == null) {
            Tables t = Tables.resolve(c, names);
            sql = "INSERT INTO " + t.outbox() + " (source, event_id, subject, event_type, event_sequence, payload,"
                    + " created_at) VALUES (?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP) RETURNING id;"
                    + " DELETE FROM " + t.outbox() + " WHERE id = lastval()";
            rowSql = sql;
        }
        return sql;
    }
}
