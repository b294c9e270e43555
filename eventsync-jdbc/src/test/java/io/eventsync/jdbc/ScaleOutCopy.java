package io.eventsync.jdbc;

import com.google.protobuf.Message;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * The copy service of the scale-out crash test, as each consumer process (and the replaying process)
 * runs it: Dispatcher + JdbcApplyScope (checking parked keys in the apply transaction) + JdbcDeadLetters
 * + CopyTable, all on the copy's PostgreSQL schema.
 *
 * <p>Its handler wraps the CopyTable's and, in the apply transaction:
 * <ul>
 *   <li>rejects or fails (transiently, until the retries run out) the events listed in the poison
 *       table, so they become dead letters that park their key until the test clears the table;</li>
 *   <li>takes a per-key counter row first ({@value #APPLY_ORDER}): the row lock serializes the apply
 *       transactions of a key, so the counter numbers them in commit order;</li>
 *   <li>records the outcome in the apply log ({@value #APPLY_LOG}) with that number, the node that
 *       applied it, its own letter if it had one, and how many parking letters of the same key were
 *       ahead of it at that moment (there must never be any).</li>
 * </ul>
 */
final class ScaleOutCopy implements AutoCloseable {
    static final String POISON = "scaleout_poison";
    static final String APPLY_LOG = "scaleout_apply_log";
    static final String APPLY_ORDER = "scaleout_apply_order";
    static final int LANES = 4;
    /** The relay's and the group's lease: a standby takes over within about this long. */
    static final Duration LEASE = Duration.ofSeconds(2);
    /**
     * Small log batches and a small in-flight bound: a takeover delivers again what the previous holder
     * had taken but not acknowledged, so this keeps that redelivery (and the test's drain) short.
     */
    static final int LOG_BATCH = 100;
    static final int MAX_IN_FLIGHT = 400;

    final JdbcDeadLetters deadLetters;
    final JdbcApplyScope scope;
    final Dispatcher dispatcher;

    ScaleOutCopy(DataSource copyDb, SchemaNames copyNames, String node) {
        CopyTable copy = Accounts.copyTable();
        Inbox inbox = Inbox.builder(copyDb).schema(copyNames).build();
        deadLetters = JdbcDeadLetters.create(copyDb, copyNames);
        scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).build();
        // Retries for a few seconds: a failing poison event becomes a dead letter soon, a busy database
        // (a refused connection) does not make a good event one.
        HandlerOptions options = HandlerOptions.custom()
                .retryPolicy(RetryPolicy.custom().maxAttempts(8).initialBackoff(Duration.ofMillis(50))
                        .maxBackoff(Duration.ofSeconds(1)).build())
                .build();
        dispatcher = Dispatcher.builder(CrashNode.GROUP)
                .handlers(HandlerRegistry.builder().on(AccountChanged.getDescriptor(), logged(copy, node), options)
                        .build())
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(LANES)
                .maxInFlight(MAX_IN_FLIGHT)
                .meterRegistry(new SimpleMeterRegistry())
                .build();
    }

    /**
     * A pool for a child process that starts even while the server refuses connections for a moment
     * ("too many clients" on a busy machine): it connects when it can instead of failing the process.
     */
    static HikariDataSource pool(String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("postgres");
        config.setPassword("");
        config.setMaximumPoolSize(size);
        config.setConnectionTimeout(30_000);
        config.setInitializationFailTimeout(-1);
        return new HikariDataSource(config);
    }

    /** The test's tables in the copy's schema (the connection's current schema). */
    static void createTables(DataSource copyDb) throws SQLException {
        try (Connection c = copyDb.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + POISON + " (event_id VARCHAR(64) PRIMARY KEY, how VARCHAR(16) NOT NULL)");
            st.execute("CREATE TABLE " + APPLY_ORDER + " (subject VARCHAR(255) PRIMARY KEY, n BIGINT NOT NULL)");
            st.execute("CREATE TABLE " + APPLY_LOG + " (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                    + " subject VARCHAR(255) NOT NULL, version BIGINT NOT NULL, event_id VARCHAR(64) NOT NULL,"
                    + " n BIGINT NOT NULL, outcome TEXT NOT NULL, own_letter VARCHAR(16),"
                    + " failed_ahead INT NOT NULL, letters_ahead INT NOT NULL, node VARCHAR(64) NOT NULL,"
                    + " applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
        }
    }

    private static Handler<Message> logged(CopyTable copy, String node) {
        Handler<Message> apply = copy.handler();
        return (payload, ctx) -> {
            Envelope e = ctx.envelope();
            Connection c = ctx.resource(Connection.class).orElseThrow();
            String poison = poison(c, e.getId());
            if ("reject".equals(poison)) {
                return Outcome.reject("poison event " + e.getId() + " of " + e.getSubject() + "#" + e.getSequence());
            }
            if (poison != null) {
                throw new IllegalStateException("poison event " + e.getId() + " of " + e.getSubject() + "#"
                        + e.getSequence() + " fails on every attempt");
            }
            long n = nextApplyNumber(c, e.getSubject());
            Outcome outcome = apply.handle(payload, ctx);
            record(c, e, n, outcome, node);
            return outcome;
        };
    }

    private static String poison(Connection c, String eventId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT how FROM " + POISON + " WHERE event_id = ?")) {
            ps.setString(1, eventId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Locks the key's counter row until the apply transaction ends and returns its next value. */
    private static long nextApplyNumber(Connection c, String subject) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + APPLY_ORDER + " (subject, n) VALUES (?, 1)"
                + " ON CONFLICT (subject) DO UPDATE SET n = " + APPLY_ORDER + ".n + 1 RETURNING n")) {
            ps.setString(1, subject);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * One apply-log row. Letters "ahead" are the key's parking letters other than the event's own and,
     * when the event is itself a letter being re-applied, older than it: applying past any of them
     * would break the key's order.
     */
    private static void record(Connection c, Envelope e, long n, Outcome outcome, String node) throws SQLException {
        String sql = "INSERT INTO " + APPLY_LOG + " (subject, version, event_id, n, outcome, own_letter,"
                + " failed_ahead, letters_ahead, node)"
                + " SELECT ?, ?, ?, ?, ?, (SELECT kind FROM eventsync_dead_letters WHERE subscription = ? AND event_id = ?),"
                + " COUNT(*) FILTER (WHERE d.kind = 'FAILED'), COUNT(*), ?"
                + " FROM eventsync_dead_letters d WHERE d.subscription = ? AND d.event_key = ? AND d.parks_key = 1"
                + " AND d.event_id <> ? AND d.seq < COALESCE((SELECT s.seq FROM eventsync_dead_letters s"
                + " WHERE s.subscription = ? AND s.event_id = ?), 9223372036854775807)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, e.getSubject());
            ps.setLong(i++, e.getSequence());
            ps.setString(i++, e.getId());
            ps.setLong(i++, n);
            ps.setString(i++, outcome instanceof Outcome.Skipped s ? "skipped: " + s.reason() : "applied");
            ps.setString(i++, CrashNode.GROUP);
            ps.setString(i++, e.getId());
            ps.setString(i++, node);
            ps.setString(i++, CrashNode.GROUP);
            ps.setString(i++, e.getSubject());
            ps.setString(i++, e.getId());
            ps.setString(i++, CrashNode.GROUP);
            ps.setString(i++, e.getId());
            ps.executeUpdate();
        }
    }

    @Override
    public void close() {
        dispatcher.close();
        scope.close();
    }
}
