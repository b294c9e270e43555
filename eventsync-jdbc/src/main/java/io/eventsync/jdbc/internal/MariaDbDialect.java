package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * MariaDB 10.5+ and MySQL 8+: backtick quoting, AUTO_INCREMENT, ON DUPLICATE KEY upserts. Times are
 * UTC_TIMESTAMP so that they do not depend on a session's time zone (DATETIME has none).
 */
final class MariaDbDialect extends StandardDialect {
    @Override
    public boolean losesTransactionSilently() {
        return true;
    }


    @Override
    public String name() {
        return "mariadb";
    }

    @Override
    public String quote(String identifier) {
        return '`' + Identifiers.require("identifier", identifier) + '`';
    }

    @Override
    public String now() {
        return "UTC_TIMESTAMP(6)";
    }

    @Override
    public String nowPlusMillis() {
        return "(UTC_TIMESTAMP(6) + INTERVAL (? * 1000) MICROSECOND)";
    }

    @Override
    public String currentSchema(Connection connection) throws SQLException {
        return connection.getCatalog();
    }

    /** DATETIME(6) has no zone; eventsync fills it with UTC_TIMESTAMP, so it is read as UTC. */
    @Override
    public java.time.Instant instant(java.sql.ResultSet rs, int column) throws SQLException {
        java.time.LocalDateTime t = rs.getObject(column, java.time.LocalDateTime.class);
        return t == null ? null : t.toInstant(java.time.ZoneOffset.UTC);
    }

    @Override
    public void setInstant(java.sql.PreparedStatement ps, int index, java.time.Instant value) throws SQLException {
        if (value == null) {
            ps.setNull(index, java.sql.Types.TIMESTAMP);
            return;
        }
        ps.setObject(index, java.time.LocalDateTime.ofInstant(value, java.time.ZoneOffset.UTC));
    }

    @Override
    String[] generatedIdColumns() {
        return new String[] {"id"};
    }

    @Override
    public String upsertPartitionFreshness(Tables t) {
        return "INSERT INTO " + t.table("freshness_partition") + " (subscription, source, partition_name, source_time, applied_at, lag_events, recorded_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE source_time = VALUES(source_time),"
                + " applied_at = VALUES(applied_at), lag_events = VALUES(lag_events), recorded_at = VALUES(recorded_at)";
    }

    @Override
    public String upsertMax(String table, List<String> keys, String value, String time) {
        String cols = String.join(", ", keys) + ", " + value + ", " + time;
        return "INSERT INTO " + table + " (" + cols + ") VALUES (" + params(keys.size() + 1) + ", " + now() + ")"
                + " ON DUPLICATE KEY UPDATE " + value + " = GREATEST(" + value + ", VALUES(" + value + ")), "
                + time + " = VALUES(" + time + ")";
    }

    /**
     * MariaDB evaluates the assignments left to right with already-updated values, so every column
     * compares the old version and the version column is assigned last.
     */
    @Override
    public String upsertVersioned(String table, List<String> keys, List<String> values, String version, List<String> types) {
        List<String> cols = new java.util.ArrayList<>(keys);
        cols.addAll(values);
        cols.add(version);
        StringBuilder set = new StringBuilder();
        for (String v : values) {
            set.append(v).append(" = IF(").append(version).append(" < VALUES(").append(version).append("), VALUES(")
                    .append(v).append("), ").append(v).append("), ");
        }
        return "INSERT INTO " + table + " (" + String.join(", ", cols) + ") VALUES (" + params(cols.size()) + ")"
                + " ON DUPLICATE KEY UPDATE " + set + version + " = GREATEST(" + version + ", VALUES(" + version + "))";
    }

    @Override
    public String upsertTombstone(String table) {
        return "INSERT INTO " + table + " (copy_table, row_key, version, deleted_at) VALUES (?, ?, ?, ?)"
                + " ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version)), deleted_at = VALUES(deleted_at)";
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        return codeIs(e, 1062);
    }

    @Override
    public boolean isMissingTable(SQLException e) {
        return codeIs(e, 1146, 1049) || stateIs(e, "42S02");
    }
}
