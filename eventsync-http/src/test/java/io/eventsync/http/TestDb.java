package io.eventsync.http;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import javax.sql.DataSource;

/**
 * A fresh database for one test: an in-memory H2 database or a new PostgreSQL schema (dropped on
 * close), with eventsync-jdbc's schema installed and an {@code items} table.
 */
final class TestDb implements AutoCloseable {
    enum Kind { H2, POSTGRES }

    static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    final Kind kind;
    final String name;
    private final HikariDataSource dataSource;
    private final Map<String, Publisher> publishers = new ConcurrentHashMap<>();
    private EmbeddedLog log;
    private final java.util.List<Relay> relays = new java.util.concurrent.CopyOnWriteArrayList<>();

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
            db = new TestDb(kind, name, "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000;DATABASE_TO_LOWER=TRUE");
        }
        EventsyncSchema.install(db.dataSource);
        db.execute("CREATE TABLE items (id VARCHAR(100) PRIMARY KEY, name VARCHAR(200) NOT NULL,"
                + " quantity BIGINT NOT NULL, version BIGINT NOT NULL)");
        return db;
    }

    DataSource dataSource() {
        return dataSource;
    }

    void execute(String sql) {
        String script = sql;
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

    /** The embedded log in this database (the transport the relay appends to and the feed serves). */
    synchronized EmbeddedLog log() {
        if (log == null) {
            log = EmbeddedLog.builder().dataSource(dataSource).build();
        }
        return log;
    }

    /** Starts this database's relay: outbox of source "inventory" -> embedded log topic {@code topic}. */
    synchronized Relay startRelay(String topic) {
        Relay relay = Relay.builder().dataSource(dataSource).source("inventory")
                .publisher(publishers.computeIfAbsent(topic, t -> log().publisher(t)))
                .meterRegistry(new io.micrometer.core.instrument.simple.SimpleMeterRegistry())
                // These tests count log entries and positions of events; heartbeats would add entries.
                .heartbeatInterval(java.time.Duration.ZERO).build().start();
        relays.add(relay);
        return relay;
    }

    /** Appends one event to the log through the embedded log's publisher (gapless offsets, commit order). */
    void append(String topic, Envelope event) {
        Publisher publisher = publishers.computeIfAbsent(topic, t -> log().publisher(t));
        publisher.send(new OutboundEvent(event, event.toByteArray())).join();
    }

    @Override
    public void close() {
        relays.forEach(Relay::close);
        if (log != null) {
            log.close();
        }
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
