package io.eventsync.jdbc;

import com.google.protobuf.Message;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.internal.CopySql;
import io.eventsync.v1.Envelope;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The copy tables' guarded updates of one batched apply ({@link JdbcApplyScope#applyAll}), held while
 * the handlers run and sent as one JDBC batch per copy-table statement: one round trip for the batch
 * instead of one per event. Bound to each invocation of the batch as a resource, where the dialect
 * batches them (PostgreSQL). An update that changed no row (a new key, a stale event, a key behind a
 * tombstone) then takes the table's full path, whose outcome (applied, or skipped as stale) replaces the
 * tentative {@code applied} its handler returned. Anything that fails fails the batch, whose events then
 * go one at a time. Lane thread only.
 *
 * <p>The updates of one row stay in its statement's JDBC batch in their order (the batch runs them in that
 * order, versions guard each, and the full ways of those that changed no row go in that order too), so a
 * hot key's backlog is one round trip as well; a row that comes back under another statement (two copy
 * tables on one table) sends what is held first. Anything else sees the held updates before it: the
 * handlers get the {@link #connection() connection} through a {@link #view() view} that sends them before
 * any of its methods runs, and a {@code CopyTable} that does not hold its write (a tombstone)
 * {@link #flush() flushes} before it reads. A statement a handler prepared before a write was held does not
 * see it (only calls on the connection send). A failed send fails every later one, so the batch cannot
 * commit after it even when a handler caught the error its own connection call threw.
 */
final class CopyWrites {
    private record Deferred(CopyTable table, CopySql sql, Message payload, Envelope event, List<Object> keyValues,
                            int index) {}

    private final Connection connection;
    private final Outcome[] outcomes;
    private final List<Deferred> deferred = new ArrayList<>();
    /** Each held row (copy table + key) and the statement its updates are held under. */
    private final Map<String, String> rows = new java.util.HashMap<>();
    private final Connection view;
    private SQLException failed;
    private int current;

    /** @param outcomes the batch's outcomes, by index: a held update that changed no row replaces its own */
    CopyWrites(Connection connection, Outcome[] outcomes) {
        this.connection = connection;
        this.outcomes = outcomes;
        this.view = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this::invokeAfterFlush);
    }

    /** The batch's connection itself, for a {@code CopyTable} that holds its write (no flush). */
    Connection connection() {
        return connection;
    }

    /** The connection as the handlers get it: each call first sends the updates held so far. */
    Connection view() {
        return view;
    }

    /** The index, in the batch, of the invocation whose handler runs now. */
    void current(int index) {
        this.current = index;
    }

    void defer(CopyTable table, CopySql sql, Message payload, Envelope event, List<Object> keyValues)
            throws SQLException {
        String row = sql.target + '\u0000' + CopyTable.rowKey(keyValues);
        String heldUnder = rows.putIfAbsent(row, sql.update);
        if (heldUnder != null && !heldUnder.equals(sql.update)) {
            // The same row under another copy table's statement: the groups are sent one after the other, so
            // what is held goes first to keep the row's order.
            flush();
            rows.put(row, sql.update);
        }
        deferred.add(new Deferred(table, sql, payload, event, keyValues, current));
    }

    private Object invokeAfterFlush(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> proxy == args[0];
                case "hashCode" -> System.identityHashCode(proxy);
                default -> "batch view of " + connection;
            };
        }
        try {
            flush();
        } catch (SQLException e) {
            if (method.getName().equals("setClientInfo")) { // the one Connection method without SQLException
                throw new SQLClientInfoException(e.getMessage(), Map.of(), e);
            }
            throw e;
        }
        try {
            return method.invoke(connection, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /**
     * Sends the held updates, grouped by copy table in the order they were held; an update that changed no
     * row goes the full way (its outcome replaces the tentative one). Versions guard every write, so the
     * grouping cannot let an older event win over a newer one of the same row; within a table the JDBC
     * batch keeps their order, and the full ways go in that order too.
     */
    void flush() throws SQLException {
        if (failed != null) {
            throw new SQLException("an earlier send of the batch's held copy-table updates failed; the batch is"
                    + " rolled back (" + failed.getMessage() + ")", failed.getSQLState(), failed);
        }
        if (deferred.isEmpty()) {
            return;
        }
        Map<String, List<Deferred>> byStatement = new LinkedHashMap<>();
        for (Deferred d : deferred) {
            byStatement.computeIfAbsent(d.sql().update, k -> new ArrayList<>()).add(d);
        }
        deferred.clear();
        rows.clear();
        try {
            send(byStatement);
        } catch (SQLException | RuntimeException e) {
            failed = e instanceof SQLException sql ? sql : new SQLException(e.getMessage(), e);
            throw e;
        }
    }

    private void send(Map<String, List<Deferred>> byStatement) throws SQLException {
        for (Map.Entry<String, List<Deferred>> group : byStatement.entrySet()) {
            List<Deferred> updates = group.getValue();
            int[] counts;
            try (PreparedStatement ps = connection.prepareStatement(group.getKey())) {
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
                    outcomes[d.index()] = d.table().applyWithoutUpdate(connection, d.sql(), d.payload(), d.event(),
                            d.keyValues());
                }
            }
        }
    }
}
