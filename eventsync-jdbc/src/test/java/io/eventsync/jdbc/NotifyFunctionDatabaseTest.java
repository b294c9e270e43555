package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The schema's {@code <prefix>notify(source)} function on the real local PostgreSQL: a writer that
 * inserts an outbox row with plain SQL and calls the function wakes the relay, without deriving the
 * channel. The relays here poll every ten minutes, so a relay that publishes within the test's
 * deadline was woken by the notification, not by its poll.
 */
@Tag("database")
class NotifyFunctionDatabaseTest {
    private static final String SOURCE = "orders";
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    /** A relay that wakes only on a notification: its poll and heartbeat never come within a test. */
    private static SleepyRelay relay(TestDatabase db, RecordingPublisher publisher) throws SQLException {
        return new SleepyRelay(Relay.builder().dataSource(db.dataSource()).names(db.names()).source(SOURCE)
                .publisher(publisher).pollInterval(Duration.ofMinutes(10), Duration.ofMinutes(10))
                .heartbeatInterval(Duration.ZERO).meterRegistry(new SimpleMeterRegistry()).build().start(),
                db, javaChannel(db));
    }

    /**
     * Closes its relay promptly: a relay asleep in LISTEN sees that it was closed only once woken (or
     * once its poll interval passes, ten minutes here), so closing notifies its channel until it stopped.
     */
    private record SleepyRelay(Relay relay, TestDatabase db, String channel) implements AutoCloseable {
        @Override
        public void close() {
            CompletableFuture<Void> closing = CompletableFuture.runAsync(relay::close);
            await().atMost(DEADLINE).until(() -> {
                db.execute("SELECT pg_notify('" + channel + "', '')");
                return closing.isDone();
            });
        }
    }

    private static String javaChannel(TestDatabase db) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            return Outbox.channel(Tables.resolve(c, db.names()), SOURCE);
        }
    }

    /** What a writer in another language does: a plain INSERT and the function, in one transaction. */
    private static String appendWithPlainSql(TestDatabase db, Envelope event) throws SQLException {
        String schema = db.names().schema();
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"" + schema + "\".eventsync_outbox"
                    + " (source, event_id, subject, event_type, event_sequence, payload) VALUES (?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, SOURCE);
                ps.setString(2, event.getId());
                ps.setString(3, event.getSubject());
                ps.setString(4, event.getType());
                ps.setLong(5, event.getSequence());
                ps.setBytes(6, event.toByteArray());
                ps.executeUpdate();
            }
            String channel = callNotify(c, schema, SOURCE);
            c.commit();
            return channel;
        }
    }

    private static String callNotify(Connection c, String schema, String source) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT \"" + schema + "\".eventsync_notify(?)")) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    private static String registeredChannel(TestDatabase db) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT channel FROM eventsync_notify_channel WHERE source = ?")) {
            ps.setString(1, SOURCE);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** True once a session of the test database has LISTENed on {@code channel} as its last statement. */
    private static boolean someoneListensOn(TestDatabase db, String channel) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = ?")) {
            ps.setString(1, "LISTEN " + channel);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    @Test
    void aRowAppendedWithPlainSqlAndTheFunctionWakesTheRelay() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES)) {
            RecordingPublisher publisher = new RecordingPublisher();
            String channel = javaChannel(db);
            try (SleepyRelay ignored = relay(db, publisher)) {
                // The relay read the empty outbox and sleeps on LISTEN: from here only a notification wakes it.
                await().atMost(DEADLINE).until(() -> someoneListensOn(db, channel));
                Envelope event = TestEvents.event(SOURCE, "order-1", 1);

                assertThat(appendWithPlainSql(db, event)).as("the channel the function notified").isEqualTo(channel);

                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 1);
                assertThat(publisher.confirmed.get(0).getId()).isEqualTo(event.getId());
            }
        }
    }

    @Test
    void eachSchemaHasItsOwnFunctionBoundToItsOwnOutbox() throws Exception {
        try (TestDatabase a = TestDatabase.create(TestDatabase.Kind.POSTGRES);
             TestDatabase b = TestDatabase.create(TestDatabase.Kind.POSTGRES);
             SleepyRelay ra = relay(a, new RecordingPublisher());
             SleepyRelay rb = relay(b, new RecordingPublisher());
             Connection listener = DriverManager.getConnection(TestDatabase.PG_URL + "?user=postgres")) {
            String channelA = javaChannel(a);
            String channelB = javaChannel(b);
            assertThat(channelA).isNotEqualTo(channelB);
            await().atMost(DEADLINE).until(() -> channelA.equals(registeredChannel(a)) && channelB.equals(registeredChannel(b)));
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN " + channelA);
                st.execute("LISTEN " + channelB);
            }

            assertThat(appendWithPlainSql(a, TestEvents.event(SOURCE, "a-1", 1))).isEqualTo(channelA);
            List<String> heard = new ArrayList<>();
            await().atMost(DEADLINE).until(() -> drain(listener, heard).contains(channelA));
            assertThat(appendWithPlainSql(b, TestEvents.event(SOURCE, "b-1", 1))).isEqualTo(channelB);
            await().atMost(DEADLINE).until(() -> drain(listener, heard).contains(channelB));
            assertThat(heard).as("one notification per commit, each on its own schema's channel")
                    .containsExactly(channelA, channelB);
        }
    }

    private static List<String> drain(Connection listener, List<String> heard) throws SQLException {
        PGNotification[] notes = listener.unwrap(PGConnection.class).getNotifications(100);
        if (notes != null) {
            for (PGNotification n : notes) {
                heard.add(n.getName());
            }
        }
        return heard;
    }

    @Test
    void installingAgainKeepsTheFunctionAndTheRelaysChannel() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES)) {
            RecordingPublisher publisher = new RecordingPublisher();
            String channel = javaChannel(db);
            try (SleepyRelay ignored = relay(db, publisher)) {
                await().atMost(DEADLINE).until(() -> someoneListensOn(db, channel));
                EventsyncSchema.install(db.dataSource(), db.names());
                EventsyncSchema.install(db.dataSource(), db.names());

                assertThat(registeredChannel(db)).isEqualTo(channel);
                try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_proc p JOIN pg_namespace n"
                             + " ON n.oid = p.pronamespace WHERE n.nspname = '" + db.names().schema()
                             + "' AND p.proname = 'eventsync_notify'")) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("functions named eventsync_notify in the schema").isEqualTo(1);
                }
                appendWithPlainSql(db, TestEvents.event(SOURCE, "order-1", 1));
                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 1);
            }
        }
    }

    @Test
    void installingAnUnchangedFunctionAgainDoesNotRewriteIt() throws Exception {
        // A rewrite needs the function's owner and collides when instances install at once ("tuple
        // concurrently updated"); the row version (xmin) shows whether the install wrote it.
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES)) {
            String before = functionRowVersion(db);
            EventsyncSchema.install(db.dataSource(), db.names());
            EventsyncSchema.install(db.dataSource(), db.names());
            assertThat(functionRowVersion(db)).isNotNull().isEqualTo(before);
        }
    }

    private static String functionRowVersion(TestDatabase db) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT p.xmin::text FROM pg_proc p JOIN pg_namespace n"
                     + " ON n.oid = p.pronamespace WHERE n.nspname = '" + db.names().schema()
                     + "' AND p.proname = 'eventsync_notify'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    @Test
    void theFunctionReturnsNullForASourceWhoseRelayNeverStarted() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES);
             Connection c = db.dataSource().getConnection()) {
            assertThat(callNotify(c, db.names().schema(), "nobody")).isNull();
        }
    }

    @Test
    void aRelayOnASchemaInstalledWithoutTheChannelTableStillRelays() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES)) {
            db.execute("DROP FUNCTION eventsync_notify(TEXT)");
            db.execute("DROP TABLE eventsync_notify_channel");
            RecordingPublisher publisher = new RecordingPublisher();
            try (SleepyRelay relay = relay(db, publisher)) {
                await().atMost(DEADLINE).until(() -> someoneListensOn(db, javaChannel(db)));
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of(SOURCE, db.names()).append(c, TestEvents.event(SOURCE, "order-1", 1));
                    c.commit();
                }
                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 1);
                assertThat(relay.relay().lastFailure()).isEmpty();
            }
        }
    }
}
