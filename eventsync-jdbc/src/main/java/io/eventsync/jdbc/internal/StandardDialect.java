package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The statements the three dialects write the same way (plain SQL with {@code LIMIT} and
 * {@code FOR UPDATE}, which all three accept). A dialect overrides what it writes differently.
 */
abstract class StandardDialect implements Dialect {

    @Override
    public String quote(String identifier) {
        return '"' + Identifiers.require("identifier", identifier) + '"';
    }

    @Override
    public String now() {
        return "CURRENT_TIMESTAMP";
    }

    @Override
    public String currentSchema(Connection connection) throws SQLException {
        return connection.getSchema();
    }

    @Override
    public long insertOutbox(Connection c, Tables t, String channel, OutboxRow row) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(insertOutboxSql(t), generatedIdColumns())) {
            bindOutbox(ps, row, 1);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                if (!keys.next()) {
                    throw new SQLException("no generated id returned for the insert into " + t.outboxName());
                }
                return keys.getLong(1);
            }
        }
    }

    /** How to ask the driver for the generated id. */
    String[] generatedIdColumns() {
        return new String[] {"id"};
    }

    String insertOutboxSql(Tables t) {
        return "INSERT INTO " + t.outbox()
                + " (source, event_id, subject, event_type, event_sequence, payload, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, " + now() + ")";
    }

    static int bindOutbox(PreparedStatement ps, OutboxRow row, int first) throws SQLException {
        int i = first;
        ps.setString(i++, row.source());
        ps.setString(i++, row.eventId());
        ps.setString(i++, row.subject());
        ps.setString(i++, row.type());
        ps.setLong(i++, row.sequence());
        ps.setBytes(i++, row.payload());
        return i;
    }

    /**
     * {@code ORDER BY source, id} equals {@code ORDER BY id} under {@code source = ?}, but lets H2 read
     * the (source, id) index in order and stop at the limit; with {@code ORDER BY id} it fetched every
     * row of the source and sorted them, so a backlog made each batch slower (measured: the relay fell
     * behind its writers).
     */
    @Override
    public String selectOutboxBatch(Tables t, int excludedKeys, boolean skipParked) {
        StringBuilder sql = new StringBuilder("SELECT o.id, o.subject, o.event_id, o.event_type, o.payload FROM ")
                .append(t.outbox()).append(" o WHERE o.source = ?");
        if (excludedKeys > 0) {
            sql.append(" AND o.subject NOT IN (").append(params(excludedKeys)).append(')');
        }
        if (skipParked) {
            sql.append(" AND NOT EXISTS (SELECT 1 FROM ").append(t.outboxDeadLetters())
                    .append(" d WHERE d.source = o.source AND d.event_key = o.subject)");
        }
        return sql.append(" ORDER BY o.source, o.id LIMIT ?").toString();
    }

    @Override
    public String deleteOutboxRow(Tables t) {
        return "DELETE FROM " + t.outbox() + " WHERE id = ?";
    }

    @Override
    public String deleteOutboxRows(Tables t, int n) {
        return n == 1 ? deleteOutboxRow(t) : "DELETE FROM " + t.outbox() + " WHERE id IN (" + ",?".repeat(n).substring(1) + ")";
    }

    @Override
    public String insertOutboxDeadLetter(Tables t) {
        return "INSERT INTO " + t.outboxDeadLetters() + " (id, source, event_id, event_key, event_type, event_sequence,"
                + " payload, created_at, reason, attempts, first_failure, last_failure)"
                + " SELECT id, source, event_id, subject, event_type, event_sequence, payload, created_at, "
                + textParam() + ", " + intParam() + ", " + nowPlusMillis() + ", " + now()
                + " FROM " + t.outbox() + " WHERE id = ?";
    }

    /** A text bind parameter in a SELECT list (H2 must be told its type). */
    String textParam() {
        return "?";
    }

    /** An integer bind parameter in a SELECT list. */
    String intParam() {
        return "?";
    }

    @Override
    public String selectOutboxDeadLetters(Tables t, boolean oneId) {
        return "SELECT id, event_id, event_key, event_type, event_sequence, payload, reason, attempts, first_failure,"
                + " last_failure FROM " + t.outboxDeadLetters() + " WHERE source = ?"
                + (oneId ? " AND id = ?" : " ORDER BY source, id");
    }

    @Override
    public String restoreOutboxDeadLetter(Tables t) {
        return "INSERT INTO " + t.outbox() + " (id, source, event_id, subject, event_type, event_sequence, payload,"
                + " created_at) SELECT id, source, event_id, event_key, event_type, event_sequence, payload, created_at"
                + " FROM " + t.outboxDeadLetters() + " WHERE source = ? AND id = ?";
    }

    @Override
    public String deleteOutboxDeadLetter(Tables t) {
        return "DELETE FROM " + t.outboxDeadLetters() + " WHERE source = ? AND id = ?";
    }

    @Override
    public String countOutboxDeadLetters(Tables t) {
        return "SELECT COUNT(*) FROM " + t.outboxDeadLetters() + " WHERE source = ?";
    }

    @Override
    public String selectPendingPosition(Tables t) {
        return "SELECT MAX(id) FROM " + t.outbox() + " WHERE source = ? AND subject = ?";
    }

    @Override
    public String insertLease(Tables t) {
        return "INSERT INTO " + t.lease() + " (name, owner, epoch, expires_at) VALUES (?, ?, 1, " + nowPlusMillis() + ")";
    }

    @Override
    public String acquireLease(Tables t) {
        return "UPDATE " + t.lease()
                + " SET epoch = CASE WHEN owner = ? THEN epoch ELSE epoch + 1 END, owner = ?, expires_at = "
                + nowPlusMillis() + " WHERE name = ? AND (owner = ? OR expires_at < " + now() + ")";
    }

    @Override
    public String selectLease(Tables t) {
        return "SELECT owner, epoch FROM " + t.lease() + " WHERE name = ?";
    }

    @Override
    public String lockLease(Tables t) {
        return selectLease(t) + " FOR UPDATE";
    }

    @Override
    public String releaseLease(Tables t) {
        return "UPDATE " + t.lease() + " SET expires_at = " + nowPlusMillis()
                + " WHERE name = ? AND owner = ? AND epoch = ?";
    }

    @Override
    public String lockLogHead(Tables t) {
        return "SELECT next_offset FROM " + t.logHead() + " WHERE topic = ? FOR UPDATE";
    }

    @Override
    public String insertLogHead(Tables t) {
        return "INSERT INTO " + t.logHead() + " (topic, next_offset) VALUES (?, 0)";
    }

    @Override
    public String selectLogHead(Tables t) {
        return "SELECT next_offset FROM " + t.logHead() + " WHERE topic = ?";
    }

    @Override
    public String updateLogHead(Tables t) {
        return "UPDATE " + t.logHead() + " SET next_offset = ? WHERE topic = ?";
    }

    @Override
    public String insertLogEntries(Tables t, int n) {
        String row = "(?, ?, ?, ?, ?, " + now() + ")";
        return "INSERT INTO " + t.log() + " (topic, log_offset, event_key, event_id, payload, created_at) VALUES "
                + (", " + row).repeat(n).substring(2);
    }

    /** Ordered by the whole primary key for the same reason as {@link #selectOutboxBatch}. */
    @Override
    public String selectLogBatch(Tables t) {
        return "SELECT log_offset, payload, event_key FROM " + t.log()
                + " WHERE topic = ? AND log_offset >= ? ORDER BY topic, log_offset LIMIT ?";
    }

    @Override
    public String selectSlowestGroup(Tables t) {
        return "SELECT MIN(next_offset), COUNT(*) FROM " + t.logGroup() + " WHERE topic = ?";
    }

    @Override
    public String selectLogTopics(Tables t) {
        return "SELECT topic FROM " + t.logHead();
    }

    @Override
    public String deleteRetainedLog(Tables t) {
        return "DELETE FROM " + t.log() + " WHERE topic = ? AND log_offset < ? AND created_at < " + nowPlusMillis();
    }

    @Override
    public String selectOldestLogOffset(Tables t) {
        return "SELECT MIN(log_offset) FROM " + t.log() + " WHERE topic = ?";
    }

    /**
     * {@code DELETE ... LIMIT n} (H2 and MariaDB). Without an ORDER BY: MariaDB would read and sort
     * every matching row (holding their locks) before deleting the first n.
     */
    @Override
    public String deleteOlderThan(String table, String keyColumn, String timeColumn, int limit) {
        return "DELETE FROM " + table + " WHERE " + olderThan(keyColumn, timeColumn) + " LIMIT " + limit;
    }

    static String olderThan(String keyColumn, String timeColumn) {
        return (keyColumn == null ? "" : keyColumn + " = ? AND ") + timeColumn + " < ?";
    }

    @Override
    public String selectPartitionFreshness(Tables t) {
        return "SELECT source, partition_name, source_time, applied_at, lag_events, recorded_at FROM "
                + t.table("freshness_partition") + " WHERE subscription = ? ORDER BY source, partition_name";
    }

    @Override
    public String selectFreshness(Tables t) {
        return "SELECT source, source_time, applied_at FROM " + t.table("freshness") + " WHERE subscription = ? ORDER BY source";
    }

    @Override
    public String selectOffset(Tables t) {
        return "SELECT next_offset FROM " + t.offsets() + " WHERE consumer_group = ? AND topic = ? AND log_partition = ?";
    }

    static String params(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    static boolean stateIs(SQLException e, String... states) {
        for (Throwable x = e; x != null; x = x.getCause()) {
            if (x instanceof SQLException s && s.getSQLState() != null) {
                for (String state : states) {
                    if (s.getSQLState().equals(state)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static boolean codeIs(SQLException e, int... codes) {
        for (Throwable x = e; x != null; x = x.getCause()) {
            if (x instanceof SQLException s) {
                for (int code : codes) {
                    if (s.getErrorCode() == code) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
