package io.eventsync.jdbc;

import com.google.protobuf.Message;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.internal.CopySql;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The copy tables' guarded updates of one batched apply ({@link JdbcApplyScope#applyAll}), held while
 * the handlers run and then sent as one JDBC batch per copy table: one round trip for the batch instead
 * of one per event. Bound to each invocation of the batch as a resource, where the dialect batches them
 * (PostgreSQL). An update that changed no row (a new key, a stale event, a key behind a tombstone) then
 * takes the table's full path, whose outcome (applied, or skipped as stale) replaces the tentative
 * {@code applied} its handler returned. Anything that fails fails the batch, whose events then go one
 * at a time. Lane thread only.
 */
final class CopyWrites {
    private record Deferred(CopyTable table, CopySql sql, Message payload, Envelope event, List<Object> keyValues,
                            int index) {}

    private final List<Deferred> deferred = new ArrayList<>();
    /** The keys (invocation keys) with writes held: an invocation of such a key sends them first. */
    private final java.util.Set<String> keys = new java.util.HashSet<>();
    private int current;

    /** The index, in the batch, of the invocation whose handler runs now. */
    void current(int index) {
        this.current = index;
    }

    void defer(CopyTable table, CopySql sql, Message payload, Envelope event, List<Object> keyValues, String key) {
        deferred.add(new Deferred(table, sql, payload, event, keyValues, current));
        keys.add(key);
    }

    /**
     * Whether writes of {@code key} are held: the next invocation of that key must see them (whatever its
     * handler does with the row), so the caller flushes first.
     */
    boolean holds(String key) {
        return keys.contains(key);
    }

    /**
     * Sends the held updates, grouped by copy table in the order they were held; an update that changed no
     * row goes the full way ({@code outcomes[i]} gets its outcome). Versions guard every write, so the
     * grouping cannot let an older event win over a newer one of the same row.
     */
    void flush(Connection c, Outcome[] outcomes) throws SQLException {
        if (deferred.isEmpty()) {
            return;
        }
        Map<String, List<Deferred>> byStatement = new LinkedHashMap<>();
        for (Deferred d : deferred) {
            byStatement.computeIfAbsent(d.sql().update, k -> new ArrayList<>()).add(d);
        }
        for (Map.Entry<String, List<Deferred>> group : byStatement.entrySet()) {
            List<Deferred> updates = group.getValue();
            int[] counts;
            try (PreparedStatement ps = c.prepareStatement(group.getKey())) {
                ps.setQueryTimeout(Inbox.BATCH_STATEMENT_TIMEOUT_SECONDS);
                for (Deferred d : updates) {
                    d.table().bindUpdate(ps, d.payload(), d.event(), d.keyValues());
                    ps.addBatch();
                }
                counts = ps.executeBatch();
            }
            if (counts.length != updates.size()) {
                throw new SQLException("the driver reported " + counts.length + " update counts for a batch of "
                        + updates.size() + " copy-table updates");
            }
            for (int i = 0; i < updates.size(); i++) {
                if (counts[i] != 0 && counts[i] != 1) {
                    // Not knowing whether a row changed would risk dropping a new key's insert: the batch falls back.
                    throw new SQLException("the driver reported update count " + counts[i] + " for a guarded copy-table"
                            + " update (0 or 1 expected)");
                }
                if (counts[i] == 0) {
                    Deferred d = updates.get(i);
                    outcomes[d.index()] = d.table().applyWithoutUpdate(c, d.sql(), d.payload(), d.event(), d.keyValues());
                }
            }
        }
        deferred.clear();
        keys.clear();
    }
}
