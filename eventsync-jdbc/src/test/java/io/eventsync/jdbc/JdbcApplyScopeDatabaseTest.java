package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static io.eventsync.jdbc.Accounts.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.eventsync.Position;
import io.eventsync.handler.Handler;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The apply transaction on real PostgreSQL, MariaDB and H2 (file mode). */
@Tag("database")
class JdbcApplyScopeDatabaseTest {
    private static final String SUB = "accounts-copy";

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void redeliveredEventIsAppliedOnce(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).meterRegistry(meters).build()) {
                AccountChanged payload = account("a1", 100);
                Envelope e = event(payload, 1, 1);
                TestInvocation first = new TestInvocation(SUB, e, payload, copy.handler());
                TestInvocation again = new TestInvocation(SUB, e, payload, copy.handler());

                assertThat(scope.apply(first)).isEqualTo(Outcome.applied());
                Outcome second = scope.apply(again);

                assertThat(second).isInstanceOf(Outcome.Skipped.class);
                assertThat(((Outcome.Skipped) second).reason()).startsWith("duplicate");
                assertThat(again.calls).isZero();
                assertThat(meters.get("eventsync.inbox.duplicates").tag("subscription", SUB).counter().count())
                        .isEqualTo(1.0);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(1);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'a1'")).isEqualTo(100);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void failedAttemptLeavesNothingAndTheRetryApplies(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).build()) {
                AccountChanged payload = account("a1", 100);
                Envelope e = event(payload, 1, 7);
                Handler<Message> failsAfterWriting = (p, ctx) -> {
                    copy.handler().handle(p, ctx);
                    throw new IllegalStateException("crash after the write");
                };
                assertThatThrownBy(() -> scope.apply(new TestInvocation(SUB, e, payload, failsAfterWriting)))
                        .hasMessageContaining("crash after the write");
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

                Handler<Message> rejects = (p, ctx) -> {
                    copy.handler().handle(p, ctx);
                    return Outcome.reject("bad");
                };
                assertThat(scope.apply(new TestInvocation(SUB, e, payload, rejects))).isInstanceOf(Outcome.Reject.class);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

                assertThat(scope.apply(new TestInvocation(SUB, e, payload, copy.handler()))).isEqualTo(Outcome.applied());
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isEqualTo(1);
                assertThat(inbox.isApplied(new Position(Accounts.SOURCE, 7), SUB)).isTrue();
                assertThat(inbox.contains(SUB, e.getId())).isTrue();
            }
        }
    }

    /**
     * MariaDB and H2 roll the whole transaction back on a deadlock and the connection goes on in a new one:
     * a handler that catches it and writes on (simulated by a rollback) must not commit without the inbox row.
     */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = {"MARIADB", "H2"})
    void anApplyWhoseTransactionWasRolledBackUnderItsHandlerIsNotCommitted(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).build()) {
                AccountChanged payload = account("a1", 100);
                Envelope e = event(payload, 1, 7);
                Handler<Message> goesOn = (p, ctx) -> {
                    ctx.resource(java.sql.Connection.class).orElseThrow().rollback(); // the deadlock's rollback
                    return copy.handler().handle(p, ctx);
                };
                assertThatThrownBy(() -> scope.apply(new TestInvocation(SUB, e, payload, goesOn)))
                        .hasMessageContaining("inbox row(s) this transaction inserted");
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).as("its later write not committed").isZero();
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isZero();

                assertThat(scope.apply(new TestInvocation(SUB, e, payload, copy.handler()))).isEqualTo(Outcome.applied());
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isEqualTo(1);
                assertThat(inbox.contains(SUB, e.getId())).isTrue();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void abandonedHandlerCannotCommit(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            db.execute("CREATE TABLE side_effects (note VARCHAR(100))");
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).build()) {
                AccountChanged payload = account("z1", 5);
                Envelope e = event(payload, 1, 1);
                CountDownLatch wrote = new CountDownLatch(1);
                CountDownLatch abandoned = new CountDownLatch(1);
                // A zombie: writes, then ignores its cancellation and keeps going after it was abandoned.
                Handler<Message> zombie = (p, ctx) -> {
                    copy.handler().handle(p, ctx);
                    wrote.countDown();
                    while (!abandoned.await(10, TimeUnit.SECONDS)) {
                        // ignores interruption and the deadline on purpose
                    }
                    Connection c = ctx.resource(Connection.class).orElseThrow();
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO side_effects VALUES ('late')")) {
                        ps.executeUpdate();
                    } catch (Exception ignored) {
                        // the aborted connection refuses; a zombie would not care
                    }
                    return Outcome.applied();
                };
                TestInvocation zombieCall = new TestInvocation(SUB, e, payload, zombie);
                CompletableFuture<Outcome> running = CompletableFuture.supplyAsync(() -> {
                    try {
                        return scope.apply(zombieCall);
                    } catch (Exception ex) {
                        throw new RuntimeException(ex);
                    }
                });
                assertThat(wrote.await(30, TimeUnit.SECONDS)).isTrue();
                zombieCall.abandon();
                abandoned.countDown();
                assertThatThrownBy(() -> running.get(30, TimeUnit.SECONDS)).hasRootCauseInstanceOf(Exception.class);

                // The retry on a fresh worker applies the event once.
                assertThat(scope.apply(new TestInvocation(SUB, e, payload, copy.handler()))).isEqualTo(Outcome.applied());
                assertThat(db.count("SELECT COUNT(*) FROM side_effects")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(1);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'z1'")).isEqualTo(5);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void awaitAppliedWakesWhenTheApplyCommitsAndTimesOutOtherwise(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).build()) {
                AccountChanged payload = account("w1", 1);
                Envelope e = event(payload, 1, 42);
                Position token = new Position(Accounts.SOURCE, 42);
                assertThat(inbox.awaitApplied(token, SUB, Duration.ofMillis(50))).isFalse();
                assertThatThrownBy(() -> inbox.requireApplied(token, SUB, Duration.ofMillis(10)))
                        .hasMessageContaining("accounts@42").hasMessageContaining(SUB);

                CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
                    try {
                        return inbox.awaitApplied(token, SUB, Duration.ofSeconds(30));
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                });
                // Another process's view (no in-JVM signal): it polls with backoff.
                Inbox elsewhere = Inbox.builder(db.dataSource()).build();
                CompletableFuture<Boolean> poller = CompletableFuture.supplyAsync(() -> {
                    try {
                        return elsewhere.awaitApplied(token, SUB, Duration.ofSeconds(30));
                    } catch (InterruptedException ex) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                });
                scope.apply(new TestInvocation(SUB, e, payload, copy.handler()));
                assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
                assertThat(poller.get(30, TimeUnit.SECONDS)).isTrue();
                assertThat(inbox.awaitApplied(token, "other-subscription", Duration.ofMillis(20))).isFalse();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void followUpEventsAreWrittenToTheOwnOutboxOnlyWhenTheApplyCommits(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Outbox ownOutbox = Outbox.of("ledger");
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).outbox(ownOutbox).build()) {
                Handler<Message> emitting = (p, ctx) -> {
                    Outcome outcome = copy.handler().handle(p, ctx);
                    ctx.emit(io.eventsync.envelope.Events.create("ledger", "ledger-" + ctx.envelope().getSubject(),
                            ctx.envelope().getSequence(), p));
                    if (((AccountChanged) p).getPoison()) {
                        throw new IllegalStateException("fails after emitting");
                    }
                    return outcome;
                };
                AccountChanged bad = account("f1", 1).toBuilder().setPoison(true).build();
                assertThatThrownBy(() -> scope.apply(new TestInvocation(SUB, event(bad, 1, 1), bad, emitting)))
                        .hasMessageContaining("fails after emitting");
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_outbox")).isZero();

                AccountChanged good = account("f1", 2);
                assertThat(scope.apply(new TestInvocation(SUB, event(good, 2, 2), good, emitting))).isEqualTo(Outcome.applied());
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_outbox WHERE source = 'ledger' AND subject = 'ledger-f1'"))
                        .isEqualTo(1);
            }
            // Without an outbox, emitting is refused rather than silently dropped.
            try (JdbcApplyScope noOutbox = JdbcApplyScope.builder(inbox).build()) {
                AccountChanged a = account("f2", 1);
                Handler<Message> emits = (p, ctx) -> {
                    ctx.emit(io.eventsync.envelope.Events.create("ledger", "x", 1, p));
                    return Outcome.applied();
                };
                assertThatThrownBy(() -> noOutbox.apply(new TestInvocation(SUB, event(a, 1, 9), a, emits)))
                        .isInstanceOf(io.eventsync.PermanentException.class).hasMessageContaining("no outbox");
                assertThat(inbox.contains(SUB, "f2")).isFalse();
            }
        }
    }
}
