package io.eventsync.cli.demo;

import io.eventsync.PermanentException;
import io.eventsync.handler.Outcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes one row of a copy table with a version guard: a change is applied only when the event's
 * sequence is newer than the row's version, so a stale or repeated event can never move a copy back.
 * Runs on the apply transaction's connection; table and column names are the demo's constants.
 */
final class CopyRows {
    private CopyRows() {}

    static Outcome apply(Connection c, String table, String key, long version, Map<String, Object> columns,
                         boolean createIfMissing) throws SQLException {
        List<String> names = new ArrayList<>(columns.keySet());
        StringBuilder update = new StringBuilder("UPDATE ").append(table).append(" SET ");
        for (String name : names) {
            update.append(name).append(" = ?, ");
        }
        update.append("version = ? WHERE order_id = ? AND version < ?");
        try (PreparedStatement st = c.prepareStatement(update.toString())) {
            int i = 1;
            for (String name : names) {
                st.setObject(i++, columns.get(name));
            }
            st.setLong(i++, version);
            st.setString(i++, key);
            st.setLong(i, version);
            if (st.executeUpdate() == 1) {
                return Outcome.applied();
            }
        }
        Long current = currentVersion(c, table, key);
        if (current != null) {
            return Outcome.skipped("stale: " + table + " has " + key + " at version " + current
                    + ", event has version " + version);
        }
        if (!createIfMissing) {
            // Per-key order means the creating event was applied first; reaching here is a bug upstream.
            throw new PermanentException(table + " has no row for " + key + " to apply version " + version
                    + " to; the event that creates it was not applied");
        }
        StringBuilder insert = new StringBuilder("INSERT INTO ").append(table).append(" (order_id, ");
        for (String name : names) {
            insert.append(name).append(", ");
        }
        insert.append("version) VALUES (?").append(", ?".repeat(names.size() + 1)).append(')');
        try (PreparedStatement st = c.prepareStatement(insert.toString())) {
            int i = 1;
            st.setString(i++, key);
            for (String name : names) {
                st.setObject(i++, columns.get(name));
            }
            st.setLong(i, version);
            st.executeUpdate();
        }
        return Outcome.applied();
    }

    private static Long currentVersion(Connection c, String table, String key) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT version FROM " + table + " WHERE order_id = ?")) {
            st.setString(1, key);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }
}
