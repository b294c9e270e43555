package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import com.google.protobuf.StringValue;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.inprocess.InProcessTransport;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Batched apply on PostgreSQL, MariaDB and H2. One lane is held by a gate event while the events of
 * other keys queue behind it, so that when the gate opens they are all ready at once and go to the
 * copy as one batch: a duplicate of an applied event, a poison event, a handler that ignores its
 * cancellation (abandoned), an event held behind the poison one, and clean events. Exactly the right
 * events commit, only the poison event's key parks, nothing else is held; and a clean backlog commits
 * as one batch.
 */
@Tag("database")
class BatchedApplyDatabaseTest {
    private static final String TOPIC = "accounts";
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aBatchWithADuplicateAPoisonEventAndAnAbandonedHandlerCommitsExactlyTheRightEvents(TestDb.Kind kind)
            throws Exception {
        String group = "batch-copy-" + kind.name().toLowerCase();
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger hangs = new AtomicInteger();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Handler<Message> handler = (payload, ctx) -> {
                String subject = ctx.envelope().getSubject();
                if (subject.equals("poison")) {
                    throw new PermanentException("poison event " + ctx.envelope().getSequence());
                } else if (subject.equals("zombie") && hangs.getAndIncrement() == 0) {
                    // Ignores its token and interrupts past the grace period: the watchdog abandons it.
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    while (System.nanoTime() < until) {
                        LockSupport.parkNanos(until - System.nanoTime());
                    }
                }
                return copy.handler().handle(payload, ctx);
            };
            HandlerOptions options = HandlerOptions.custom().timeout(Duration.ofMillis(300))
                    .cancellationGrace(Duration.ofMillis(200))
                    .retryPolicy(RetryPolicy.custom().maxAttempts(5).initialBackoff(Duration.ofMillis(5))
                            .maxBackoff(Duration.ofMillis(50)).build()).build();
            try (Consumer consumer = new Consumer(transport, group, db, handler, options)) {
                consumer.gate = gate;
                Publisher publisher = transport.publisher(TOPIC);
                Envelope applied = event("dup", 1);
                send(publisher, applied);
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM accounts_copy") == 1);

                // A batch of a redelivered applied event, a handler that ignores its cancellation and two clean
                // events (the in-process transport hands keys over in partition order, so any order of them).
                consumer.holdTheLane(publisher, 1);
                send(publisher, applied);
                send(publisher, event("zombie", 1));
                send(publisher, event("clean-1", 1));
                send(publisher, event("clean-2", 1));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 5);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0
                        && db.count("SELECT COUNT(*) FROM accounts_copy") == 4);
                assertThat(counter(consumer, "eventsync.dispatcher.abandoned")).as("abandoned in the batch").isEqualTo(1);
                assertThat(hangs.get()).as("the zombie's handler ran again after its abandonment").isEqualTo(2);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'zombie'")).isEqualTo(1);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'clean-2'")).isEqualTo(1);

                // A batch with a poison event, an event held behind it, and a clean one.
                CountDownLatch poisonGate = new CountDownLatch(1);
                consumer.gate = poisonGate;
                consumer.holdTheLane(publisher, 2);
                send(publisher, event("poison", 1));
                send(publisher, event("clean-1", 2));
                send(publisher, event("poison", 2));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 4);
                poisonGate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0
                        && db.count("SELECT version FROM accounts_copy WHERE account_id = 'clean-1'") == 2);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'dup'")).isEqualTo(1);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'poison'")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isEqualTo(4);
                // dup once, two gates, zombie, clean-1 twice, clean-2 (the redelivery added no row).
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(7);

                List<DeadLetter> letters = consumer.deadLetters.list(group);
                assertThat(letters).extracting(DeadLetter::key).containsOnly("poison");
                assertThat(letters).extracting(DeadLetter::kind)
                        .containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD);
                assertThat(letters.get(0).attempts()).isEqualTo(1);
                assertThat(consumer.dispatcher.parkedKeys()).containsExactly("poison");
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks")).as("batches rolled back").isPositive();

                // A clean backlog, ready at once, commits as one batch.
                CountDownLatch second = new CountDownLatch(1);
                consumer.gate = second;
                consumer.holdTheLane(publisher, 3);
                for (int i = 0; i < 20; i++) {
                    send(publisher, event("backlog-" + i, 1));
                }
                double before = consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 21);
                second.countDown();
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM accounts_copy") == 24);
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);
                assertThat(consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount() - before)
                        .as("events committed in batches").isGreaterThanOrEqualTo(20);
            }
        }
    }

    /**
     * In a batch the copy table's guarded updates are held and sent together (one JDBC batch on
     * PostgreSQL); each event still goes through its version guard: an existing row is updated, a new key
     * inserted, a stale event and one behind a newer deletion skipped, one newer than a deletion applied.
     */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void theCopyTablesWritesOfABatchGoOutTogetherAndEachKeepsItsVersionGuard(TestDb.Kind kind) throws Exception {
        String group = "batch-guard-" + kind.name().toLowerCase();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            HandlerOptions options = HandlerOptions.custom().timeout(Duration.ofSeconds(30)).build();
            try (Consumer consumer = new Consumer(transport, group, db, copy.handler(), options)) {
                consumer.gate = new CountDownLatch(0);
                Publisher publisher = transport.publisher(TOPIC);
                send(publisher, event("existing", 1));
                send(publisher, event("newer", 5));
                send(publisher, event("deleted", 1));
                send(publisher, Accounts.tombstone(account("deleted", 100), 2, 0));
                send(publisher, event("revived", 1));
                send(publisher, Accounts.tombstone(account("revived", 100), 2, 0));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0
                        && db.count("SELECT COUNT(*) FROM accounts_copy") == 2);

                CountDownLatch gate = new CountDownLatch(1);
                consumer.gate = gate;
                consumer.holdTheLane(publisher, 1);
                double skippedBefore = counter(consumer, "eventsync.dispatcher.skipped");
                double appliedBefore = counter(consumer, "eventsync.dispatcher.applied");
                double batchedBefore = consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount();
                double fallbacksBefore = counter(consumer, "eventsync.dispatcher.batch.fallbacks");
                send(publisher, event("existing", 3));   // a row with a lower version: updated
                send(publisher, event("fresh", 1));      // no row: inserted
                send(publisher, event("newer", 4));      // version 4 <= 5 stored: skipped
                send(publisher, event("deleted", 1));    // older than the deletion at 2: skipped
                send(publisher, event("revived", 3));    // newer than the deletion at 2: applied, tombstone forgotten
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 6);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);

                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'existing'")).isEqualTo(3);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'existing'")).isEqualTo(300);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'fresh'")).isEqualTo(1);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'newer'")).isEqualTo(5);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'deleted'")).isZero();
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'revived'")).isEqualTo(3);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE row_key LIKE '%revived%'")).isZero();
                assertThat(counter(consumer, "eventsync.dispatcher.skipped") - skippedBefore).as("skipped").isEqualTo(2);
                // applied: the three rows and the gate
                assertThat(counter(consumer, "eventsync.dispatcher.applied") - appliedBefore).as("applied").isEqualTo(4);
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks") - fallbacksBefore).as("fallbacks").isZero();
                assertThat(consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount() - batchedBefore)
                        .as("events committed in batches").isGreaterThanOrEqualTo(5);
            }
        }
    }

    /** A hot key's backlog goes in batches too, in its order: the copy ends at its last version. */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aHotKeysBacklogIsAppliedInBatchesInItsOrder(TestDb.Kind kind) throws Exception {
        String group = "batch-hot-" + kind.name().toLowerCase();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            java.util.List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            Handler<Message> handler = (payload, ctx) -> {
                seen.add(ctx.envelope().getSequence());
                return copy.handler().handle(payload, ctx);
            };
            try (Consumer consumer = new Consumer(transport, group, db, handler,
                    HandlerOptions.custom().timeout(Duration.ofSeconds(30)).build())) {
                CountDownLatch gate = new CountDownLatch(1);
                consumer.gate = gate;
                Publisher publisher = transport.publisher(TOPIC);
                consumer.holdTheLane(publisher, 1);
                for (int i = 1; i <= 30; i++) {
                    send(publisher, event("hot", i));
                }
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 31);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'hot'")).isEqualTo(30);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'hot'")).isEqualTo(3000);
                assertThat(seen).as("handled once each, in the key's order").isSorted().hasSize(30);
                assertThat(counter(consumer, "eventsync.dispatcher.skipped")).as("none stale").isZero();
                var batches = consumer.meters.find("eventsync.dispatcher.batch.size").summary();
                assertThat(batches.totalAmount()).as("events committed in batches").isEqualTo(30);
                assertThat(batches.count()).as("batches").isLessThan(30);
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks")).isZero();
            }
        }
    }

    /**
     * Inside a batch a handler sees the copy-table writes of the events before it, and its own: a handler
     * that wraps the copy table's and reads the row back through its connection reads its event's version
     * (the held updates are sent before the connection does anything), and a deletion after an update of
     * the same key in the same batch deletes the updated row.
     */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aHandlerInABatchSeesTheCopyWritesBeforeItAndItsOwn(TestDb.Kind kind) throws Exception {
        String group = "batch-reads-" + kind.name().toLowerCase();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            java.util.Map<String, Long> readBack = new java.util.concurrent.ConcurrentHashMap<>();
            Handler<Message> handler = (payload, ctx) -> {
                Outcome outcome = copy.handler().handle(payload, ctx);
                java.sql.Connection c = ctx.resource(java.sql.Connection.class).orElseThrow();
                try (var ps = c.prepareStatement("SELECT version FROM accounts_copy WHERE account_id = ?")) {
                    ps.setString(1, ctx.envelope().getSubject());
                    try (var rs = ps.executeQuery()) {
                        readBack.put(ctx.envelope().getSubject() + "@" + ctx.envelope().getSequence(),
                                rs.next() ? rs.getLong(1) : -1L);
                    }
                }
                return outcome;
            };
            try (Consumer consumer = new Consumer(transport, group, db, handler,
                    HandlerOptions.custom().timeout(Duration.ofSeconds(30)).build())) {
                consumer.gate = new CountDownLatch(0);
                Publisher publisher = transport.publisher(TOPIC);
                send(publisher, event("updated", 1));
                send(publisher, event("deleted", 1));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0
                        && db.count("SELECT COUNT(*) FROM accounts_copy") == 2);
                readBack.clear();

                CountDownLatch gate = new CountDownLatch(1);
                consumer.gate = gate;
                consumer.holdTheLane(publisher, 1);
                double fallbacksBefore = counter(consumer, "eventsync.dispatcher.batch.fallbacks");
                double batchedBefore = consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount();
                send(publisher, event("updated", 2));
                send(publisher, event("updated", 3));
                send(publisher, event("deleted", 2));
                send(publisher, Accounts.tombstone(account("deleted", 200), 3, 0));
                send(publisher, event("inserted", 1));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 6);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);

                assertThat(readBack).containsEntry("updated@2", 2L).containsEntry("updated@3", 3L)
                        .containsEntry("deleted@2", 2L).containsEntry("deleted@3", -1L).containsEntry("inserted@1", 1L);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'updated'")).isEqualTo(3);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'deleted'")).isZero();
                assertThat(db.count("SELECT version FROM eventsync_copy_tombstones WHERE row_key LIKE '%deleted%'"))
                        .isEqualTo(3);
                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'inserted'")).isEqualTo(1);
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks") - fallbacksBefore).as("fallbacks").isZero();
                assertThat(consumer.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount() - batchedBefore)
                        .as("events committed in batches").isEqualTo(5);
            }
        }
    }

    /**
     * Two copy tables on one table, each writing its own columns, in one batch: a row's later update under
     * the other copy table's statement waits for the earlier one (the statements' groups go one after the
     * other), so the row ends as applied in order: the first event's column kept, the second's version.
     */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void twoCopyTablesOnOneTableKeepARowsOrderInABatch(TestDb.Kind kind) throws Exception {
        String group = "batch-two-" + kind.name().toLowerCase();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            Accounts.copyTable().createTable(db.dataSource());
            CopyTable balances = CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                    .key("account_id", "account_id").column("balance_cents").build();
            CopyTable owners = CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                    .key("account_id", "account_id").column("owner_name", "owner.name").build();
            // Odd versions through the owners' copy table, even ones through the balances'.
            Handler<Message> handler = (payload, ctx) ->
                    (ctx.envelope().getSequence() % 2 == 1 ? owners : balances).handler().handle(payload, ctx);
            try (Consumer consumer = new Consumer(transport, group, db, handler,
                    HandlerOptions.custom().timeout(Duration.ofSeconds(30)).build())) {
                CountDownLatch gate = new CountDownLatch(1);
                consumer.gate = gate;
                Publisher publisher = transport.publisher(TOPIC);
                consumer.holdTheLane(publisher, 1);
                double fallbacksBefore = counter(consumer, "eventsync.dispatcher.batch.fallbacks");
                send(publisher, event("other", 2));
                send(publisher, event("both", 1));
                send(publisher, event("both", 2));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 4);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);

                assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = 'both'")).isEqualTo(2);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'both'")).isEqualTo(200);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'both' AND owner_name IS NOT NULL"))
                        .as("the owner from version 1").isEqualTo(1);
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'other'")).isEqualTo(200);
                assertThat(counter(consumer, "eventsync.dispatcher.skipped")).as("none stale").isZero();
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks") - fallbacksBefore).as("fallbacks").isZero();
            }
        }
    }

    /**
     * A handler that catches a deadlock goes on in a new transaction on MariaDB and H2 (the database rolled
     * the whole transaction back): simulated by a handler that rolls back and writes on, on its first try.
     * The batch does not commit without the inbox rows and writes before it; every event applies once.
     */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = {"MARIADB", "H2"})
    void aBatchWhoseTransactionTheDatabaseRolledBackUnderAHandlerIsNotCommitted(TestDb.Kind kind) throws Exception {
        String group = "batch-lost-" + kind.name().toLowerCase();
        try (TestDb db = TestDb.create(kind, 4).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            java.util.concurrent.atomic.AtomicBoolean swallowed = new java.util.concurrent.atomic.AtomicBoolean();
            Handler<Message> handler = (payload, ctx) -> {
                if (ctx.envelope().getSubject().equals("swallows") && swallowed.compareAndSet(false, true)) {
                    java.sql.Connection c = ctx.resource(java.sql.Connection.class).orElseThrow();
                    c.rollback(); // what InnoDB does on a deadlock; the handler catches the error and goes on
                }
                return copy.handler().handle(payload, ctx);
            };
            try (Consumer consumer = new Consumer(transport, group, db, handler,
                    HandlerOptions.custom().timeout(Duration.ofSeconds(30)).build())) {
                CountDownLatch gate = new CountDownLatch(1);
                consumer.gate = gate;
                Publisher publisher = transport.publisher(TOPIC);
                consumer.holdTheLane(publisher, 1);
                send(publisher, event("before", 1));
                send(publisher, event("swallows", 1));
                send(publisher, event("after", 1));
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 4);
                gate.countDown();
                await().atMost(CONVERGE).until(() -> consumer.dispatcher.inFlight() == 0);

                assertThat(swallowed).isTrue();
                for (String key : java.util.List.of("before", "swallows", "after")) {
                    assertThat(db.count("SELECT version FROM accounts_copy WHERE account_id = '" + key + "'")).as(key)
                            .isEqualTo(1);
                }
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox WHERE subscription = '" + group + "'"))
                        .as("the gate and the three, once each").isEqualTo(4);
                assertThat(counter(consumer, "eventsync.dispatcher.batch.fallbacks")).isEqualTo(1);
                assertThat(consumer.deadLetters.keys(group)).isEmpty();
            }
        }
    }

    private static double counter(Consumer consumer, String name) {
        return consumer.meters.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static Envelope event(String subject, long sequence) {
        return Accounts.event(account(subject, sequence * 100), sequence, 0);
    }

    /** An event of its own type, whose handler (with a long timeout) waits for the test's latch. */
    private static Envelope gate(long sequence) {
        return Events.create(Accounts.SOURCE, "gate", sequence, StringValue.of("gate"));
    }

    private static void send(Publisher publisher, Envelope e) throws Exception {
        publisher.send(new OutboundEvent(e, CODEC.encode(e))).get(10, TimeUnit.SECONDS);
    }

    /** One lane (so the gate holds every key), the dead-letter store in the scope (so it batches). */
    private static final class Consumer implements AutoCloseable {
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final JdbcDeadLetters deadLetters;
        final JdbcApplyScope scope;
        final Dispatcher dispatcher;
        final Subscription subscription;
        volatile CountDownLatch gate;
        /** A permit each time a gate's handler starts (holding the lane from then on). */
        final java.util.concurrent.Semaphore entered = new java.util.concurrent.Semaphore(0);

        /** Sends a gate and returns once its handler holds the lane, so that what follows queues behind it. */
        void holdTheLane(Publisher publisher, long sequence) throws Exception {
            send(publisher, gate(sequence));
            if (!entered.tryAcquire(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the gate's handler did not start within 60 s");
            }
        }

        Consumer(InProcessTransport transport, String group, TestDb db, Handler<Message> handler,
                 HandlerOptions options) {
            this.deadLetters = JdbcDeadLetters.create(db.dataSource());
            this.scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).deadLetters(deadLetters)
                    .meterRegistry(meters).build();
            Handler<StringValue> gated = (payload, ctx) -> {
                entered.release();
                gate.await(60, TimeUnit.SECONDS);
                return Outcome.applied();
            };
            this.dispatcher = Dispatcher.builder(group)
                    .handlers(HandlerRegistry.builder().on(AccountChanged.getDescriptor(), handler, options)
                            .on(StringValue.class, gated, HandlerOptions.custom().timeout(Duration.ofSeconds(60)).build())
                            .build())
                    .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance())
                            .add(StringValue.getDefaultInstance()).build())
                    .codec(CODEC).validator(EnvelopeValidator.defaults())
                    .applyScope(scope).deadLetters(deadLetters).lanes(1).meterRegistry(meters)
                    .shutdownTimeout(Duration.ofSeconds(5)).build();
            this.subscription = transport.subscribe(SubscriptionSpec.fanout(TOPIC, group), dispatcher);
        }

        @Override
        public void close() {
            subscription.close();
            dispatcher.close();
            scope.close();
        }
    }
}
