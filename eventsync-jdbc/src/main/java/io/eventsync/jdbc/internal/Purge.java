package io.eventsync.jdbc.internal;

import io.eventsync.jdbc.Purged;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.function.BooleanSupplier;

/**
 * Retention's delete loop: runs a {@link Dialect#deleteOlderThan} statement again and again, each in
 * its own transaction, until one deletes fewer rows than a batch. A busy table never sees more than
 * one batch of rows locked by retention, and only for one short statement.
 */
public final class Purge {
    /** Rows per delete statement. */
    public static final int BATCH = 1000;

    private Purge() {}

    /**
     * Deletes from {@code table} (named for the result) with {@code sql}, binding {@code key} (unless
     * null) and {@code cutoff}. Fixed cutoff: rows written while it runs are newer, so the loop ends.
     * Stops early between two statements once {@code goOn} says no (retention is closing). Not by
     * interrupting: an interrupt during file I/O can close an embedded H2 database.
     */
    public static Purged olderThan(Connection c, Dialect dialect, String table, String sql, String key,
                                   Timestamp cutoff, BooleanSupplier goOn) throws SQLException {
        boolean auto = c.getAutoCommit();
        int isolation = c.getTransactionIsolation();
        c.setAutoCommit(true);
        if (dialect == Dialect.MARIADB && isolation != Connection.TRANSACTION_READ_COMMITTED) {
            // REPEATABLE READ would keep a lock on every row the delete scans past, matching or not.
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        }
        long rows = 0;
        int statements = 0;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int n;
            do {
                int i = 1;
                if (key != null) {
                    ps.setString(i++, key);
                }
                ps.setTimestamp(i, cutoff);
                n = ps.executeUpdate();
                statements++;
                rows += n;
            } while (n >= BATCH && goOn.getAsBoolean());
        } finally {
            if (c.getTransactionIsolation() != isolation) {
                c.setTransactionIsolation(isolation);
            }
            c.setAutoCommit(auto);
        }
        return new Purged(table, rows, statements);
    }
}
