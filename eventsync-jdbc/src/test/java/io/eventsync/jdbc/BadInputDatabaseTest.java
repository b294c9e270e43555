package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static io.eventsync.jdbc.Accounts.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.v1.Envelope;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What a copy service sees when its database is wrong: each failure names what is wrong, is
 * transient (the dispatcher retries it, so the event is not lost), and the event applies once fixed.
 */
@Tag("database")
class BadInputDatabaseTest {
    private static final String SUB = "copies";

    private static HikariDataSource pool(String url, String user, String password) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setConnectionTimeout(2_000);
        config.setInitializationFailTimeout(-1); // start anyway, like a service whose database is down
        return new HikariDataSource(config);
    }

    private static Outcome applyOnce(HikariDataSource ds) throws Exception {
        AccountChanged a = account("b1", 1);
        Envelope e = event(a, 1, 1);
        try (JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(ds).build()).build()) {
            return scope.apply(new TestInvocation(SUB, e, a, Accounts.copyTable().handler()));
        }
    }

    @Test
    void wrongCredentialsAreReportedAsARetryableConnectionFailure() {
        try (HikariDataSource ds = pool(TestDb.PG_URL, "no_such_user", "wrong")) {
            assertThatThrownBy(() -> applyOnce(ds))
                    .isInstanceOf(EventsyncException.class)
                    .isNotInstanceOf(PermanentException.class)
                    .hasMessageContaining("cannot connect to the database")
                    .hasMessageContaining("credentials")
                    .hasMessageContaining("no_such_user");
        }
    }

    @Test
    void aServerThatIsDownIsReportedAsARetryableConnectionFailure() {
        try (HikariDataSource ds = pool("jdbc:postgresql://127.0.0.1:1/test", "postgres", "")) {
            assertThatThrownBy(() -> applyOnce(ds))
                    .isInstanceOf(EventsyncException.class)
                    .isNotInstanceOf(PermanentException.class)
                    .hasMessageContaining("cannot connect to the database")
                    .hasMessageContaining("running");
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aMissingInboxTableIsNamedAndTheEventAppliesOnceItIsInstalled(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind)) {
            Accounts.copyTable().createTable(db.dataSource());
            assertThatThrownBy(() -> applyOnce(db.dataSource()))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("eventsync_inbox")
                    .hasMessageContaining("does not exist")
                    .hasMessageContaining("EventsyncSchema.install");
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

            db.withConsumerTables();
            assertThat(applyOnce(db.dataSource())).isEqualTo(Outcome.applied());
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aMissingCopyTableIsNamed(TestDb.Kind kind) {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            assertThatThrownBy(() -> applyOnce(db.dataSource()))
                    .hasMessageContaining("accounts_copy");
            assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void eventsWaitingOnAMissingInboxAreRetriedAndNoneIsLostOnceItIsInstalled(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             io.eventsync.transport.inprocess.InProcessTransport transport =
                     io.eventsync.transport.inprocess.InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            io.eventsync.handler.HandlerOptions patient = io.eventsync.handler.HandlerOptions.custom()
                    .retryPolicy(io.eventsync.handler.RetryPolicy.custom().maxAttempts(1_000)
                            .initialBackoff(java.time.Duration.ofMillis(10)).maxBackoff(java.time.Duration.ofMillis(100))
                            .build())
                    .build();
            io.eventsync.handler.HandlerRegistry handlers = io.eventsync.handler.HandlerRegistry.builder()
                    .on(AccountChanged.getDescriptor(), copy.handler(), patient).build();
            // The inbox goes missing while the service runs (dropped by mistake, a migration not yet applied).
            db.execute("DROP TABLE eventsync_inbox");
            try (ConsumerRig consumer = new ConsumerRig(transport, "accounts", "copies", db.dataSource(), handlers)) {
                io.eventsync.transport.Publisher publisher = transport.publisher("accounts");
                for (int i = 1; i <= 20; i++) {
                    String subject = "m" + (i % 4);
                    Envelope e = io.eventsync.envelope.Events.create(Accounts.SOURCE, subject, i, account(subject, i));
                    publisher.send(new io.eventsync.transport.OutboundEvent(e,
                            io.eventsync.envelope.EnvelopeCodec.defaults().encode(e))).get();
                }
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() ->
                        consumer.meters.find("eventsync.dispatcher.retried").counters().stream()
                                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum() > 0);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

                db.withConsumerTables();
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
                        db.count("SELECT COUNT(*) FROM eventsync_inbox") == 20);
            }
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isEqualTo(4);
            assertThat(db.count("SELECT SUM(version) FROM accounts_copy")).isEqualTo(17 + 18 + 19 + 20);
        }
    }
}
