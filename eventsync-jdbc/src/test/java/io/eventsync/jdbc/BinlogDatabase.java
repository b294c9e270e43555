package io.eventsync.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * A fresh database for one binlog relay test on the MariaDB server with row-format binlogs that
 * {@code scripts/mariadb-binlog.sh} starts (127.0.0.1:3307 unless the system property
 * {@code eventsync.mariadb.binlog.port} or the environment variable {@code EVENTSYNC_MARIADB_BINLOG_PORT}
 * says otherwise; the shared server on 3306 runs without a binlog). The eventsync schema is installed;
 * the database is dropped on close. The binlog is the server's: each test's relay passes over the other
 * databases' rows.
 */
public final class BinlogDatabase implements AutoCloseable {
    public static final String PORT_PROPERTY = "eventsync.mariadb.binlog.port";
    public static final String PORT_ENV = "EVENTSYNC_MARIADB_BINLOG_PORT";

    private final String name;
    private final String url;
    private final HikariDataSource dataSource;
    private final SchemaNames names;

    private BinlogDatabase(String name) {
        this.name = name;
        this.url = baseUrl() + name + "?user=root";
        this.names = SchemaNames.of(name);
        this.dataSource = TestDatabase.pool(url, 12);
    }

    public static int port() {
        String value = System.getProperty(PORT_PROPERTY, System.getenv(PORT_ENV));
        return value == null || value.isBlank() ? 3307 : Integer.parseInt(value.trim());
    }

    /** {@code jdbc:mariadb://127.0.0.1:<port>/}. */
    public static String baseUrl() {
        return "jdbc:mariadb://127.0.0.1:" + port() + "/";
    }

    /** Creates the database; fails (never skips) with what to do when the binlog server is not there. */
    public static BinlogDatabase create() {
        String name = "es_b_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        requireServer();
        admin("CREATE DATABASE " + name);
        BinlogDatabase db = new BinlogDatabase(name);
        EventsyncSchema.install(db.dataSource, db.names);
        return db;
    }

    private static void requireServer() {
        try (Connection c = DriverManager.getConnection(baseUrl() + "?user=root");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT @@log_bin, @@binlog_format")) {
            rs.next();
            if (!rs.getBoolean(1) || !"ROW".equals(rs.getString(2))) {
                throw new IllegalStateException("the binlog relay tests need log_bin=ON and binlog_format=ROW on "
                        + baseUrl() + ", but it has log_bin=" + rs.getString(1) + " binlog_format=" + rs.getString(2)
                        + "; run scripts/mariadb-binlog.sh (it starts a server of its own)");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the binlog relay tests need a MariaDB server with row-format binlogs on "
                    + baseUrl() + " (port from -D" + PORT_PROPERTY + " or " + PORT_ENV + ", default 3307); run"
                    + " scripts/mariadb-binlog.sh to create and start it. Connecting failed: " + e.getMessage(), e);
        }
    }

    static void admin(String sql) {
        try (Connection c = DriverManager.getConnection(baseUrl() + "?user=root"); Statement st = c.createStatement()) {
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

    /** The URL of this database, with user. */
    public String url() {
        return url;
    }

    public HikariDataSource newPool(int size) {
        return TestDatabase.pool(url, size);
    }

    public long queryLong(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
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
        dataSource.close();
        admin("DROP DATABASE IF EXISTS " + name);
    }

    @Override
    public String toString() {
        return "binlog:" + name;
    }
}
