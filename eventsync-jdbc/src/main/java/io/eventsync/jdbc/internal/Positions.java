package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Raising a position row (offsets, log group positions) with the dialect's upsert. */
public final class Positions {
    /** (dialect, table, key columns) -> the upsert, built once instead of on every ack flush. */
    private static final Map<List<String>, String> SQL = new ConcurrentHashMap<>();

    private Positions() {}

    public static void raise(Connection c, Tables t, String table, List<String> keyColumns, List<String> keys, long value) {
        String sql = SQL.computeIfAbsent(List.of(t.dialect().name(), table, String.join(",", keyColumns)),
                k -> t.dialect().upsertMax(table, keyColumns, "next_offset", "updated_at"));
        for (int attempt = 1; ; attempt++) {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                for (String key : keys) {
                    ps.setString(i++, key);
                }
                ps.setLong(i, value);
                ps.executeUpdate();
                return;
            } catch (SQLException e) {
                // Two first inserts at once: one loses with a duplicate key; the row exists now, so retry.
                if (attempt == 1 && t.dialect().isDuplicateKey(e) && autoCommit(c)) {
                    continue;
                }
                throw Jdbc.failure(t, "storing position " + keys + " = " + value, table, e);
            }
        }
    }

    private static boolean autoCommit(Connection c) {
        try {
            return c.getAutoCommit();
        } catch (SQLException e) {
            return false;
        }
    }
}
