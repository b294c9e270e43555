package io.eventsync.jdbc;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.DeliveryHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The consuming service of the hostile-input contract, as a service wires it: Dispatcher (4 lanes) ->
 * JdbcApplyScope (inbox, one transaction per event) -> CopyTable of StringValue events (key = subject,
 * {@code value}, {@code version}), dead letters in {@link JdbcDeadLetters}, all in a fresh PostgreSQL
 * schema dropped on close. Retries are short (3 attempts, 10-50 ms), so a failure classified as
 * transient costs milliseconds, yet still shows in the letter's attempts. Shared through the test-jar.
 */
public final class PostgresCopy implements CopyUnderTest {
    private final TestDatabase db;
    private final String subscription;
    private final JdbcApplyScope scope;
    private final JdbcDeadLetters deadLetters;
    private final Dispatcher dispatcher;

    private PostgresCopy(String subscription, EnvelopeCodec codec) {
        this.db = TestDatabase.create(TestDatabase.Kind.POSTGRES);
        this.subscription = subscription;
        CopyTable copy = CopyTable.builder(StringValue.getDescriptor(), "hostile_copy")
                .keyFromSubject("k").column("value").versionColumn("version").build();
        copy.createTable(db.dataSource());
        HandlerOptions options = HandlerOptions.custom().retryPolicy(RetryPolicy.custom().maxAttempts(3)
                .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50)).build()).build();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        this.deadLetters = JdbcDeadLetters.create(db.dataSource());
        this.scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).deadLetters(deadLetters)
                .meterRegistry(meters).build();
        this.dispatcher = Dispatcher.builder(subscription)
                .handlers(copy.registerOn(HandlerRegistry.builder(), options).build())
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .codec(codec)
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(4)
                .meterRegistry(meters)
                .shutdownTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** A new copy service for {@code subscription} in a schema of its own. */
    public static PostgresCopy create(String subscription, EnvelopeCodec codec) {
        return new PostgresCopy(subscription, codec);
    }

    @Override
    public DeliveryHandler handler() {
        return dispatcher;
    }

    @Override
    public List<DeadLetter> deadLetters() {
        return deadLetters.list(subscription);
    }

    @Override
    public Set<String> appliedEventIds() {
        Set<String> ids = new HashSet<>();
        query("SELECT event_id FROM eventsync_inbox WHERE subscription = ?", rs -> ids.add(rs.getString(1)), subscription);
        return ids;
    }

    @Override
    public Map<String, Row> rows() {
        Map<String, Row> rows = new TreeMap<>();
        query("SELECT k, value, version FROM hostile_copy", rs -> rows.put(rs.getString(1),
                new Row(rs.getString(2), rs.getLong(3))));
        return rows;
    }

    @Override
    public Set<String> parkedKeys() {
        return dispatcher.parkedKeys();
    }

    @Override
    public int inFlight() {
        return dispatcher.inFlight();
    }

    @Override
    public void close() {
        dispatcher.close();
        scope.close();
        db.close();
    }

    private interface RowReader {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, RowReader reader, String... params) {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    reader.read(rs);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
