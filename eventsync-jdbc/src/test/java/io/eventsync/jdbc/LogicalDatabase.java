package io.eventsync.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A fresh schema for one WAL relay test on the PostgreSQL cluster with {@code wal_level = logical}
 * that {@code scripts/pg-logical.sh} creates (127.0.0.1:5433 unless the system property
 * {@code eventsync.pg.logical.port} or the environment variable {@code EVENTSYNC_PG_LOGICAL_PORT} says
 * otherwise; the shared cluster on 5432 runs with {@code wal_level = replica}). The eventsync schema is
 * installed; slots and publications made through {@link #slot} are dropped on close, with the schema.
 * Test slots are named {@code es_t_...}, so the script can drop ones a killed test run left behind.
 */
public final class LogicalDatabase implements AutoCloseable {
    public static final String PORT_PROPERTY = "eventsync.pg.logical.port";
    public static final String PORT_ENV = "EVENTSYNC_PG_LOGICAL_PORT";

    private final String name;
    private final String url;
    private final HikariDataSource dataSource;
    private final SchemaNames names;
    private final List<String> slots = new ArrayList<>();

    private LogicalDatabase(String name) {
        this.name = name;
        this.url = baseUrl() + "?currentSchema=" + name;
        this.names = SchemaNames.of(name);
        this.dataSource = TestDatabase.pool(url + "&user=postgres", 12);
    }

    public static int port() {
        String value = System.getProperty(PORT_PROPERTY, System.getenv(PORT_ENV));
        return value == null || value.isBlank() ? 5433 : Integer.parseInt(value.trim());
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/test}. */
    public static String baseUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/test";
    }

    /**
     * Creates the schema; fails (never skips) with what to do when the logical cluster is not there.
     */
    public static LogicalDatabase create() {
        String name = "es_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        requireCluster();
        admin("CREATE SCHEMA " + name);
        LogicalDatabase db = new LogicalDatabase(name);
        EventsyncSchema.install(db.dataSource, db.names);
        return db;
    }

    private static void requireCluster() {
        String walLevel;
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", "");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW wal_level")) {
            rs.next();
            walLevel = rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException("the WAL relay tests need a PostgreSQL cluster with wal_level=logical on "
                    + baseUrl() + " (port from -D" + PORT_PROPERTY + " or " + PORT_ENV + ", default 5433); run"
                    + " scripts/pg-logical.sh to create and start it. Connecting failed: " + e.getMessage(), e);
        }
        if (!"logical".equals(walLevel)) {
            throw new IllegalStateException("the WAL relay tests need wal_level=logical, but the cluster on " + baseUrl()
                    + " has wal_level=" + walLevel + "; run scripts/pg-logical.sh (it configures its own cluster)");
        }
    }

    static void admin(String sql) {
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    public HikariDataSource dataSource() {
        return dataSource;
    }

    public SchemaNames names() {
        return names;
    }

    public String schema() {
        return name;
    }

    /** The URL of this schema, without user. */
    public String url() {
        return url;
    }

    /**
     * A new slot and publication name pair for this test ({@code es_t_<schema>_<tag>}), dropped on close;
     * created on the server when {@code create} is true.
     */
    public String slot(String tag, boolean create) {
        String slot = "es_t_" + name.substring(3) + "_" + tag;
        slots.add(slot);
        if (create) {
            WalSlot.create(dataSource, names, slot, slot);
        }
        return slot;
    }

    public HikariDataSource newPool(int size) {
        return TestDatabase.pool(url + "&user=postgres", size);
    }

    public long queryLong(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /** The slot's confirmed position as a number. */
    public long confirmedLsn(String slot) {
        return WalSlot.status(dataSource, slot).orElseThrow().confirmedLsn();
    }

    public long currentLsn() {
        return queryLong("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");
    }

    public void execute(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            for (String slot : slots) {
                WalSlot.drop(dataSource, slot, Duration.ofSeconds(20));
                WalSlot.dropPublication(dataSource, slot);
            }
        } finally {
            dataSource.close();
            admin("DROP SCHEMA IF EXISTS " + name + " CASCADE");
        }
    }

    @Override
    public String toString() {
        return "logical:" + name;
    }
}
