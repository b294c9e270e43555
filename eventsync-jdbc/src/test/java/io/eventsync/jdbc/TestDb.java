package io.eventsync.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 * A fresh, empty database for one test: a PostgreSQL schema, a MariaDB database or an H2 file
 * database, each with a random name, dropped on close. Uses the real local services.
 */
final class TestDb implements AutoCloseable {

    enum Kind { POSTGRESQL, MARIADB, H2 }

    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    static final String MARIADB_URL = "jdbc:mariadb://127.0.0.1:3306/";

    final Kind kind;
    final String name;
    final String url;
    final String user;
    private final Path dir;
    private final HikariDataSource dataSource;

    private TestDb(Kind kind, String name, String url, String user, Path dir, int poolSize) {
        this.kind = kind;
        this.name = name;
        this.url = url;
        this.user = user;
        this.dir = dir;
        this.dataSource = pool(url, user, poolSize);
    }

    static TestDb create(Kind kind) {
        return create(kind, 12);
    }

    static TestDb create(Kind kind, int poolSize) {
        String name = "es_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try {
            switch (kind) {
                case POSTGRESQL -> {
                    admin(PG_URL, "postgres", "CREATE SCHEMA " + name);
                    return new TestDb(kind, name, PG_URL + "?currentSchema=" + name, "postgres", null, poolSize);
                }
                case MARIADB -> {
                    admin(MARIADB_URL, "root", "CREATE DATABASE " + name);
                    return new TestDb(kind, name, MARIADB_URL + name, "root", null, poolSize);
                }
                default -> {
                    Path dir = Files.createTempDirectory("eventsync-h2-");
                    // Unquoted names fold to lower case like PostgreSQL, so test SQL reads the same everywhere;
                    // eventsync itself quotes every identifier and works in either mode.
                    return new TestDb(kind, "public", "jdbc:h2:file:" + dir.resolve("db").toAbsolutePath()
                            + ";DATABASE_TO_LOWER=TRUE", "sa", dir, poolSize);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + kind + ": " + e, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static HikariDataSource pool(String url, String user, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword("");
        config.setMaximumPoolSize(poolSize);
        config.setConnectionTimeout(10_000);
        config.setPoolName("test-" + url.replaceAll("[^A-Za-z0-9]", "").substring(0, 8));
        return new HikariDataSource(config);
    }

    HikariDataSource dataSource() {
        return dataSource;
    }

    /** Installs the consumer's eventsync tables (inbox, dead letters) into this database. */
    TestDb withConsumerTables() {
        EventsyncSchema.install(dataSource, SchemaNames.defaults());
        return this;
    }

    static void admin(String url, String user, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, ""); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    long count(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
             var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e, e);
        }
    }

    void execute(String sql) {
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e, e);
        }
    }

    @Override
    public void close() {
        dataSource.close();
        try {
            switch (kind) {
                case POSTGRESQL -> admin(PG_URL, "postgres", "DROP SCHEMA IF EXISTS " + name + " CASCADE");
                case MARIADB -> admin(MARIADB_URL, "root", "DROP DATABASE IF EXISTS " + name);
                default -> {
                    try (Stream<Path> files = Files.walk(dir)) {
                        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                    }
                }
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot drop test database " + name + ": " + e, e);
        }
    }

    @Override
    public String toString() {
        return kind.name();
    }
}
