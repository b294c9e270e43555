package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/** Small JDBC chores shared by the outbox, relay and log: safe messages, rollback, connections. */
public final class Jdbc {
    private static final Pattern SECRET = Pattern.compile("(?i)(password|pwd|secret|token)=[^&;]*");

    private Jdbc() {}

    /** The URL without credentials, for messages and logs. */
    public static String redact(String url) {
        if (url == null) {
            return "<unknown url>";
        }
        return SECRET.matcher(url.replaceAll("//[^/@]*@", "//")).replaceAll("$1=***");
    }

    /**
     * The database a URL points at, without parameters or credentials: writers and readers that
     * configured their pools differently still meet on the same in-process signal.
     */
    public static String databaseId(String url) {
        String r = redact(url);
        int cut = r.length();
        for (char c : new char[] {';', '?'}) {
            int i = r.indexOf(c);
            if (i >= 0) {
                cut = Math.min(cut, i);
            }
        }
        return r.substring(0, cut);
    }

    /** The URL a data source connects to, redacted, when it can tell (HikariCP can). */
    public static String urlOf(DataSource dataSource) {
        return Pools.jdbcUrl(dataSource).map(Jdbc::redact).orElse(dataSource.getClass().getSimpleName());
    }

    /** The innermost cause's message: what the driver said (connection refused, access denied). */
    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == t ? String.valueOf(t.getMessage()) : t.getMessage() + " <- " + root.getMessage();
    }

    /** The URL of a connection, redacted; never throws. */
    public static String urlOf(Connection c) {
        try {
            return redact(c.getMetaData().getURL());
        } catch (SQLException | RuntimeException e) {
            return "<unknown url>";
        }
    }

    /**
     * Opens a connection, turning a failure into a message that says what was tried and what to check
     * (the database may be down, the credentials wrong); the cause keeps the driver's detail.
     */
    public static Connection connect(DataSource dataSource, String purpose) {
        try {
            return dataSource.getConnection();
        } catch (SQLException e) {
            throw new EventsyncException("cannot connect to " + urlOf(dataSource) + " for " + purpose + " (SQLState "
                    + e.getSQLState() + "): " + rootMessage(e)
                    + "; check that the server is running and reachable and that the credentials are right", e);
        }
    }

    /**
     * Wraps a failed statement: a missing table becomes a {@link ConfigException} naming the table and
     * telling how to create it; anything else a transient {@link EventsyncException}.
     */
    public static EventsyncException failure(Tables t, String what, String table, SQLException e) {
        if (t != null && t.dialect().isMissingTable(e)) {
            return new ConfigException(what + " failed: table " + table + " does not exist (the database says: "
                    + e.getMessage() + "); install the schema with EventsyncSchema.install(dataSource, names)"
                    + " or run " + String.join(" and ", t.dialect().schemaResources()), e);
        }
        return new EventsyncException(what + " failed on " + table + " (SQLState " + e.getSQLState() + "): "
                + e.getMessage(), e);
    }

    /** Rolls back, adding a rollback failure to {@code primary} instead of hiding it. */
    public static void rollbackQuietly(Connection c, Throwable primary) {
        try {
            if (c != null && !c.getAutoCommit()) {
                c.rollback();
            }
        } catch (SQLException e) {
            if (primary != null) {
                primary.addSuppressed(e);
            }
        }
    }

    public static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a broken connection: nothing left to protect
        }
    }
}
