package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.jdbc.test.Owner;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.inprocess.InProcessTransport;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Database errors classified on the real databases, through the whole consumer path (Dispatcher +
 * JdbcApplyScope + CopyTable + JdbcDeadLetters): an error no retry can fix is dead-lettered at the
 * first attempt with the database's reason; a lost connection or a lock timeout is retried and applies.
 */
@Tag("database")
class DatabaseErrorsDatabaseTest {
    private static final String TOPIC = "accounts";
    private static final String GROUP = "accounts-copy";
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    /** Twenty attempts: a permanent error classified as transient would be retried, not dead-lettered at once. */
    private static HandlerOptions manyRetries() {
        return HandlerOptions.custom()
                .retryPolicy(RetryPolicy.custom().maxAttempts(20).initialBackoff(Duration.ofMillis(5))
                        .maxBackoff(Duration.ofMillis(50)).build())
                .build();
    }

    private static void send(Publisher publisher, Envelope e) throws Exception {
        publisher.send(new OutboundEvent(e, CODEC.encode(e))).get(10, TimeUnit.SECONDS);
    }

    private static Envelope event(String subject, long sequence, AccountChanged payload) {
        return Events.create(Accounts.SOURCE, subject, sequence, payload);
    }

    private static HandlerRegistry copying(Handler<Message> handler) {
        return HandlerRegistry.builder().on(AccountChanged.getDescriptor(), handler, manyRetries()).build();
    }

    /** Runs the refused event and a good one; returns the refused event's only dead letter. */
    private static DeadLetter refusedAtOnce(TestDb db, Envelope refused) throws Exception {
        try (InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            try (ConsumerRig consumer = new ConsumerRig(transport, TOPIC, GROUP, db.dataSource(),
                    copying(copy.handler()))) {
                Publisher publisher = transport.publisher(TOPIC);
                send(publisher, refused);
                send(publisher, event("good-1", 1, account("good-1", 7)));
                await().atMost(CONVERGE).until(() -> consumer.deadLetters.list(GROUP).size() == 1
                        && db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'good-1'") == 1);
                List<DeadLetter> letters = consumer.deadLetters.list(GROUP);
                assertThat(consumer.meters.find("eventsync.dispatcher.retried").counters())
                        .allSatisfy(c -> assertThat(c.count()).isZero());
                assertThat(consumer.meters.counter("eventsync.dispatcher.dead_lettered", "subscription", GROUP,
                        "type", AccountChanged.getDescriptor().getFullName(), "reason", "permanent").count())
                        .isEqualTo(1.0);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(1);
                return letters.get(0);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aValueTooLongForItsColumnIsDeadLetteredAtTheFirstAttemptWithTheDatabasesReason(TestDb.Kind kind)
            throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            // account_id is the key column, VARCHAR(255) on every dialect.
            Envelope tooLong = event("long-1", 1, account("x".repeat(300), 1));

            DeadLetter letter = refusedAtOnce(db, tooLong);

            assertThat(letter.eventId()).isEqualTo(tooLong.getId());
            assertThat(letter.kind()).isEqualTo(DeadLetter.Kind.FAILED);
            assertThat(letter.attempts()).isEqualTo(1);
            assertThat(letter.reason()).startsWith("permanent: the database refused event " + tooLong.getId())
                    .contains("SQLState 22001").doesNotContain("gave up");
            if (kind == TestDb.Kind.MARIADB) {
                assertThat(letter.reason()).contains("error 1406").contains("Data too long");
            }
        }
    }

    @Test
    void aNulCharacterBoundForAPostgresTextColumnIsDeadLetteredAtTheFirstAttempt() throws Exception {
        try (TestDb db = TestDb.create(TestDb.Kind.POSTGRESQL).withConsumerTables()) {
            AccountChanged nul = account("nul-1", 1).toBuilder()
                    .setOwner(Owner.newBuilder().setId("o-1").setName("Ann\u0000Lee")).build();
            Envelope event = event("nul-1", 1, nul);

            DeadLetter letter = refusedAtOnce(db, event);

            assertThat(letter.eventId()).isEqualTo(event.getId());
            assertThat(letter.attempts()).isEqualTo(1);
            // The server refuses it (22021); some driver versions refuse it first (22023): both class 22.
            assertThat(letter.reason()).startsWith("permanent: the database refused event " + event.getId())
                    .containsPattern("SQLState 220(21|23)").doesNotContain("gave up");
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'nul-1'")).isZero();
        }
    }

    /**
     * The first attempt loses its connection (the server ends the session, as a restart or failover
     * would): retried on a fresh connection and applied, no dead letter.
     */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = {"POSTGRESQL", "MARIADB"})
    void aLostConnectionStaysTransientAndTheRetryApplies(TestDb.Kind kind) throws Exception {
        String kill = kind == TestDb.Kind.POSTGRESQL ? "SELECT pg_terminate_backend(pg_backend_pid())"
                : "KILL CONNECTION CONNECTION_ID()";
        AtomicInteger attempts = new AtomicInteger();
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Handler<Message> losesItsConnectionOnce = (payload, ctx) -> {
                if (attempts.incrementAndGet() == 1) {
                    Connection c = ctx.resource(Connection.class).orElseThrow();
                    try (Statement st = c.createStatement()) {
                        st.execute(kill);
                    }
                }
                return copy.handler().handle(payload, ctx);
            };
            try (ConsumerRig consumer = new ConsumerRig(transport, TOPIC, GROUP, db.dataSource(),
                    copying(losesItsConnectionOnce))) {
                send(transport.publisher(TOPIC), event("c-1", 1, account("c-1", 5)));
                await().atMost(CONVERGE).until(() ->
                        db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'c-1'") == 1);
                assertThat(consumer.deadLetters.list(GROUP)).isEmpty();
                assertThat(attempts.get()).isGreaterThanOrEqualTo(2);
            }
        }
    }

    /**
     * H2 runs in the process, so there is no connection to lose; its transient case is a lock timeout:
     * the copy row is locked by another transaction until the first attempt has failed.
     */
    @Test
    void aLockTimeoutOnH2StaysTransientAndTheRetryApplies() throws Exception {
        try (TestDb db = TestDb.create(TestDb.Kind.H2).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            try (ConsumerRig consumer = new ConsumerRig(transport, TOPIC, GROUP, db.dataSource(),
                    copying(copy.handler()))) {
                Publisher publisher = transport.publisher(TOPIC);
                send(publisher, event("l-1", 1, account("l-1", 1)));
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM accounts_copy") == 1);
                try (Connection blocker = db.dataSource().getConnection()) {
                    blocker.setAutoCommit(false);
                    try (Statement st = blocker.createStatement()) {
                        st.executeUpdate("UPDATE accounts_copy SET balance_cents = -1 WHERE account_id = 'l-1'");
                    }
                    send(publisher, event("l-1", 2, account("l-1", 2)));
                    await().atMost(CONVERGE).until(() -> consumer.meters.find("eventsync.dispatcher.retried")
                            .counters().stream().mapToDouble(c -> c.count()).sum() >= 1);
                    blocker.rollback();
                }
                await().atMost(CONVERGE).until(() ->
                        db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'l-1'") == 2);
                assertThat(consumer.deadLetters.list(GROUP)).isEmpty();
            }
        }
    }
}
