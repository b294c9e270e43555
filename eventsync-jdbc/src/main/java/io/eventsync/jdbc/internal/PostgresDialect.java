package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;

/** PostgreSQL 12+: identity columns, ON CONFLICT upserts, NOTIFY delivered at commit. */
final class PostgresDialect extends StandardDialect {
    @Override
    public boolean batchesCopyWrites() {
        return true;
    }


    @Override
    public String name() {
        return "postgresql";
    }

    @Override
    public String nowPlusMillis() {
        return "(CURRENT_TIMESTAMP + ? * INTERVAL '1 millisecond')";
    }

    @Override
    public boolean supportsNotify() {
        return true;
    }

    @Override
    public String notifySql() {
        return "SELECT pg_notify(?, '')";
    }

    /**
     * One round trip for the row and its signal: a data-modifying CTE inserts, and pg_notify queues
     * the notification, which PostgreSQL delivers only when (and if) the transaction commits; repeated
     * identical notifications in one transaction are folded into one. A null channel inserts without
     * notifying.
     */
    @Override
    public long insertOutbox(Connection c, Tables t, String channel, OutboxRow row) throws SQLException {
        if (channel == null) {
            return super.insertOutbox(c, t, null, row);
        }
        String sql = "WITH ins AS (" + insertOutboxSql(t) + " RETURNING id) SELECT id, pg_notify(?, '') FROM ins";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int next = bindOutbox(ps, row, 1);
            ps.setString(next, channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Override
    public String insertInboxArraysReturningFresh(Tables t) {
        return "INSERT INTO " + t.inbox() + " (subscription, event_id, source, source_position, applied_at)"
                + " SELECT ?, u.event_id, u.source, u.source_position, ?"
                + " FROM unnest(?::varchar[], ?::varchar[], ?::bigint[]) AS u(event_id, source, source_position)"
                + " ON CONFLICT (subscription, event_id) DO NOTHING RETURNING event_id";
    }

    @Override
    public String insertInboxReturningFresh(Tables t, int rows) {
        return "INSERT INTO " + t.inbox() + " (subscription, event_id, source, source_position, applied_at) VALUES "
                + String.join(", ", java.util.Collections.nCopies(rows, "(?, ?, ?, ?, ?)"))
                + " ON CONFLICT (subscription, event_id) DO NOTHING RETURNING event_id";
    }

    /** Writes only when the channel changed (a schema renamed under the outbox), so a restart costs no row version. */
    @Override
    public String upsertNotifyChannel(Tables t) {
        return "INSERT INTO " + t.table("notify_channel") + " AS cur (source, channel) VALUES (?, ?)"
                + " ON CONFLICT (source) DO UPDATE SET channel = EXCLUDED.channel, updated_at = CURRENT_TIMESTAMP"
                + " WHERE cur.channel <> EXCLUDED.channel";
    }

    @Override
    public String upsertPartitionFreshness(Tables t) {
        return "INSERT INTO " + t.table("freshness_partition") + " (subscription, source, partition_name, source_time, applied_at, lag_events, recorded_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription, source, partition_name) DO UPDATE SET"
                + " source_time = EXCLUDED.source_time, applied_at = EXCLUDED.applied_at,"
                + " lag_events = EXCLUDED.lag_events, recorded_at = EXCLUDED.recorded_at";
    }

    @Override
    public String upsertMax(String table, List<String> keys, String value, String time) {
        String cols = String.join(", ", keys) + ", " + value + ", " + time;
        return "INSERT INTO " + table + " AS cur (" + cols + ") VALUES (" + params(keys.size() + 1) + ", " + now() + ")"
                + " ON CONFLICT (" + keys.stream().collect(Collectors.joining(", ")) + ") DO UPDATE SET "
                + value + " = GREATEST(cur." + value + ", EXCLUDED." + value + "), " + time + " = EXCLUDED." + time;
    }

    @Override
    public String upsertVersioned(String table, List<String> keys, List<String> values, String version, List<String> types) {
        List<String> cols = new java.util.ArrayList<>(keys);
        cols.addAll(values);
        cols.add(version);
        StringBuilder set = new StringBuilder();
        for (String v : values) {
            set.append(v).append(" = EXCLUDED.").append(v).append(", ");
        }
        return "INSERT INTO " + table + " AS cur (" + String.join(", ", cols) + ") VALUES (" + params(cols.size()) + ")"
                + " ON CONFLICT (" + String.join(", ", keys) + ") DO UPDATE SET " + set + version + " = EXCLUDED." + version
                + " WHERE cur." + version + " < EXCLUDED." + version;
    }

    @Override
    public String upsertTombstone(String table) {
        return "INSERT INTO " + table + " AS cur (copy_table, row_key, version, deleted_at) VALUES (?, ?, ?, ?)"
                + " ON CONFLICT (copy_table, row_key) DO UPDATE SET version = GREATEST(cur.version, EXCLUDED.version),"
                + " deleted_at = EXCLUDED.deleted_at";
    }

    /**
     * PostgreSQL has no {@code DELETE ... LIMIT}: the rows are picked by their physical address (a TID
     * scan deletes them). {@code FOR UPDATE SKIP LOCKED} makes retention step around rows an apply
     * transaction holds, never waiting for one, and locks the latest version of each row it picks, so
     * a row changed meanwhile (a tombstone moved to a newer deletion) is judged on its new values.
     */
    @Override
    public String deleteOlderThan(String table, String keyColumn, String timeColumn, int limit) {
        return "DELETE FROM " + table + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + table + " WHERE "
                + olderThan(keyColumn, timeColumn) + " LIMIT " + limit + " FOR UPDATE SKIP LOCKED))";
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        return stateIs(e, "23505");
    }

    @Override
    public boolean isMissingTable(SQLException e) {
        return stateIs(e, "42P01", "3F000");
    }
}
