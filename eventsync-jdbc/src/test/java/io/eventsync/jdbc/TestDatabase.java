package io.eventsync.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A fresh, isolated database for one test on a real server: a new PostgreSQL schema, a new MariaDB
 * database or a new H2 file under target/, with the eventsync schema installed. Dropped on close.
 * Shared with other JDBC tests through the test-jar.
 */
public final class TestDatabase implements AutoCloseable {

    public enum Kind { POSTGRES, MARIADB, H2 }

    public static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    public static final String MARIADB_URL = "jdbc:mariadb://127.0.0.1:3306/";

    private final Kind kind;
    private final String name;
    private final String url;
    private final HikariDataSource dataSource;
    private final SchemaNames names;

    private TestDatabase(Kind kind, String name, String url, SchemaNames names) {
        this.kind = kind;
        this.name = name;
        this.url = url;
        this.names = names;
        this.dataSource = pool(url, 10);
    }

    /** Creates the database and installs the eventsync schema. */
    public static TestDatabase create(Kind kind) {
        String name = "es_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            TestDatabase db = switch (kind) {
                case POSTGRES -> {
                    admin(PG_URL, "CREATE SCHEMA " + name);
                    yield new TestDatabase(kind, name, PG_URL + "?user=postgres&currentSchema=" + name, SchemaNames.of(name));
                }
                case MARIADB -> {
                    admin(MARIADB_URL + "?user=root", "CREATE DATABASE " + name);
                    yield new TestDatabase(kind, name, MARIADB_URL + name + "?user=root", SchemaNames.of(name));
                }
                case H2 -> {
                    Path dir = Path.of("target", "h2").toAbsolutePath();
                    Files.createDirectories(dir);
                    yield new TestDatabase(kind, name, "jdbc:h2:file:" + dir.resolve(name) + ";LOCK_TIMEOUT=10000",
                            SchemaNames.of("PUBLIC"));
                }
            };
            EventsyncSchema.install(db.dataSource(), db.names());
            return db;
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + kind, e);
        }
    }

    public static HikariDataSource pool(String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        if (url.startsWith("jdbc:h2:")) {
            config.setUsername("sa");
        }
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(10_000);
        return new HikariDataSource(config);
    }

    private static void admin(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url.startsWith("jdbc:postgresql:") ? url + "?user=postgres" : url);
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    public Kind kind() { return kind; }

    public String url() { return url; }

    public HikariDataSource dataSource() { return dataSource; }

    public SchemaNames names() { return names; }

    /** A new pool on the same database, e.g. for a second relay whose connections can be closed alone. */
    public HikariDataSource newPool(int size) {
        return pool(url, size);
    }

    /** Runs one statement in autocommit, for test setup. */
    public void execute(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }

    public long count(String tableSuffix) {
        String table = kind == Kind.MARIADB
                ? "`" + names.schema() + "`.`" + names.prefix() + tableSuffix + "`"
                : "\"" + names.schema() + "\".\"" + names.prefix() + tableSuffix + "\"";
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
             var rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException("count " + table, e);
        }
    }

    @Override
    public void close() {
        dataSource.close();
        try {
            switch (kind) {
                case POSTGRES -> admin(PG_URL, "DROP SCHEMA " + name + " CASCADE");
                case MARIADB -> admin(MARIADB_URL + "?user=root", "DROP DATABASE " + name);
                case H2 -> {
                    try (Stream<Path> files = Files.list(Path.of("target", "h2"))) {
                        files.filter(p -> p.getFileName().toString().startsWith(name))
                                .sorted(Comparator.reverseOrder())
                                .forEach(p -> p.toFile().delete());
                    }
                }
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot drop test database " + name, e);
        }
    }

    @Override
    public String toString() {
        return kind + ":" + name;
    }
}
