package io.eventsync.http;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * A fresh database for one test: an in-memory H2 database or a new PostgreSQL schema (dropped on
 * close), holding the embedded log tables of eventsync-jdbc's V1 schema and an {@code items} table.
 */
final class TestDb implements AutoCloseable {
    enum Kind { H2, POSTGRES }

    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    final Kind kind;
    final String name;
    private final HikariDataSource dataSource;

    private TestDb(Kind kind, String name, String url) {
        this.kind = kind;
        this.name = name;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(kind == Kind.H2 ? "sa" : "postgres");
        config.setMaximumPoolSize(12);
        config.setPoolName("test-" + name);
        this.dataSource = new HikariDataSource(config);
    }

    static TestDb create(Kind kind) {
        String name = "es_http_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        TestDb db;
        if (kind == Kind.POSTGRES) {
            admin("CREATE SCHEMA " + name);
            db = new TestDb(kind, name, PG_URL + "?currentSchema=" + name);
        } else {
            db = new TestDb(kind, name, "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
        }
        db.execute(LOG_DDL);
        db.execute("CREATE TABLE items (id VARCHAR(100) PRIMARY KEY, name VARCHAR(200) NOT NULL,"
                + " quantity BIGINT NOT NULL, version BIGINT NOT NULL)");
        return db;
    }

    private static final String LOG_DDL = """
            CREATE TABLE "eventsync_log" (
                topic VARCHAR(200) NOT NULL, log_offset BIGINT NOT NULL, event_key VARCHAR(500) NOT NULL,
                event_id VARCHAR(64) NOT NULL, payload %s NOT NULL,
                created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (topic, log_offset));
            CREATE TABLE "eventsync_log_head" (topic VARCHAR(200) NOT NULL PRIMARY KEY, next_offset BIGINT NOT NULL);
            CREATE TABLE "eventsync_offsets" (consumer_group VARCHAR(200) NOT NULL, topic VARCHAR(200) NOT NULL,
                log_partition VARCHAR(200) NOT NULL, next_offset BIGINT NOT NULL,
                updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (consumer_group, topic, log_partition))
            """;

    DataSource dataSource() {
        return dataSource;
    }

    void execute(String sql) {
        String script = sql.replace("%s", kind == Kind.POSTGRES ? "BYTEA" : "VARBINARY(1000000)");
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            for (String statement : script.split(";")) {
                if (!statement.isBlank()) {
                    st.execute(statement);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    /**
     * Appends to the log the way the relay does: offsets assigned under the head row's lock, so they
     * are gapless and in commit order. Returns the offset.
     */
    long append(String topic, String key, String eventId, byte[] bytes) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            long next;
            try (PreparedStatement st = c.prepareStatement("SELECT next_offset FROM \"eventsync_log_head\" WHERE topic = ? FOR UPDATE")) {
                st.setString(1, topic);
                try (ResultSet rs = st.executeQuery()) {
                    next = rs.next() ? rs.getLong(1) : -1;
                }
            }
            if (next < 0) {
                try (PreparedStatement st = c.prepareStatement("INSERT INTO \"eventsync_log_head\" (topic, next_offset) VALUES (?, 0)")) {
                    st.setString(1, topic);
                    st.executeUpdate();
                }
                next = 0;
            }
            try (PreparedStatement st = c.prepareStatement("INSERT INTO \"eventsync_log\" (topic, log_offset, event_key, event_id, payload) VALUES (?, ?, ?, ?, ?)")) {
                st.setString(1, topic);
                st.setLong(2, next);
                st.setString(3, key);
                st.setString(4, eventId);
                st.setBytes(5, bytes);
                st.executeUpdate();
            }
            try (PreparedStatement st = c.prepareStatement("UPDATE \"eventsync_log_head\" SET next_offset = ? WHERE topic = ?")) {
                st.setLong(1, next + 1);
                st.setString(2, topic);
                st.executeUpdate();
            }
            c.commit();
            return next;
        } catch (SQLException e) {
            throw new IllegalStateException("append to " + topic, e);
        }
    }

    @Override
    public void close() {
        dataSource.close();
        if (kind == Kind.POSTGRES) {
            admin("DROP SCHEMA " + name + " CASCADE");
        }
    }

    private static void admin(String sql) {
        try (Connection c = DriverManager.getConnection(PG_URL, "postgres", ""); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
