package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.WalOutbox.Capture;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.direct.DirectPublisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * WAL relay -> {@link DirectPublisher} -> Dispatcher -> JdbcApplyScope -> CopyTable in one process, no
 * transport between them, on the logical-replication cluster ({@link LogicalDatabase}): four writers
 * commit business changes with their events through {@link WalOutbox} (two as logical messages, two as
 * outbox rows); the copy equals the source and the inbox holds each event once, also when everything is
 * closed while events are applied but not confirmed and started again on the same slot.
 */
@Tag("database")
class DirectWalRelayTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int WRITERS = 4;
    private static final int ACCOUNTS = 100;
    private static final String COLUMNS = "account_id, balance_cents, owner_name, active, opened, status, version";

    private LogicalDatabase sourceDb;
    private LogicalDatabase copyDb;
    private String slot;
    /** Unique: logical messages are read by every slot of the database, whatever the schema (see WalCrashTest). */
    private String source;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void createSchemas() throws Exception {
        sourceDb = LogicalDatabase.create();
        copyDb = LogicalDatabase.create();
        slot = sourceDb.slot("direct", true);
        source = "accounts-" + sourceDb.schema().substring(3);
        Accounts.copyTable().createTable(copyDb.dataSource());
        try (Connection c = sourceDb.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (account_id VARCHAR(255) PRIMARY KEY, balance_cents BIGINT,"
                    + " owner_name TEXT, active BOOLEAN, opened TIMESTAMPTZ, status VARCHAR(255), version BIGINT NOT NULL)");
            st.execute("CREATE TABLE account_versions (account_id VARCHAR(255) PRIMARY KEY, version BIGINT NOT NULL)");
            st.execute("INSERT INTO account_versions SELECT 'acc-' || i, 0 FROM generate_series(0, " + (ACCOUNTS - 1) + ") i");
            st.execute("INSERT INTO account_versions VALUES ('acc-gate', 0)");
        }
    }

    @AfterEach
    void dropSchemas() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        sourceDb.close();
        copyDb.close();
    }

    /** Relay, publisher and consumer of one run; closed in the order a service stops them. */
    private final class Pipeline implements AutoCloseable {
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final JdbcApplyScope scope;
        final Dispatcher dispatcher;
        final DirectPublisher publisher;
        final WalRelay relay;

        Pipeline(Handler<Message> handler) {
            Inbox inbox = Inbox.builder(copyDb.dataSource()).schema(copyDb.names()).build();
            JdbcDeadLetters deadLetters = JdbcDeadLetters.create(copyDb.dataSource(), copyDb.names());
            scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).meterRegistry(meters).build();
            HandlerOptions options = HandlerOptions.custom()
                    .retryPolicy(RetryPolicy.custom().maxAttempts(50).initialBackoff(Duration.ofMillis(10))
                            .maxBackoff(Duration.ofMillis(500)).build())
                    .build();
            dispatcher = Dispatcher.builder("accounts-copy")
                    .handlers(HandlerRegistry.builder().on(AccountChanged.getDescriptor(), handler, options).build())
                    .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                    .codec(EnvelopeCodec.defaults())
                    .validator(EnvelopeValidator.defaults())
                    .applyScope(scope)
                    .deadLetters(deadLetters)
                    .lanes(8)
                    .meterRegistry(meters)
                    .build();
            publisher = DirectPublisher.to(source, dispatcher);
            relay = WalRelay.builder()
                    .dataSource(sourceDb.dataSource()).names(sourceDb.names()).source(source).slot(slot).publication(slot)
                    .publisher(publisher)
                    .leaseDuration(Duration.ofSeconds(1))
                    .meterRegistry(meters)
                    .build()
                    .start();
            open.add(this);
        }

        double duplicates() {
            return meters.find("eventsync.inbox.duplicates").counters().stream().mapToDouble(c -> c.count()).sum()
                    + meters.find("eventsync.dispatcher.batch.duplicates").counters().stream().mapToDouble(c -> c.count()).sum();
        }

        @Override
        public void close() {
            relay.close(); // waits for the sends in flight, that is for the dispatcher to apply them, and confirms
            publisher.close();
            dispatcher.close();
            scope.close();
            open.remove(this);
        }
    }

    @Test
    void copyEqualsSourceAndEachEventIsInTheInboxOnceAndTheSlotPassesEveryEvent() throws Exception {
        try (Pipeline pipeline = new Pipeline(Accounts.copyTable().handler())) {
            AtomicLong written = new AtomicLong();
            AtomicBoolean failed = new AtomicBoolean();
            for (Thread t : writers(250, written, failed)) {
                t.join();
            }
            assertThat(failed).isFalse();
            long end = sourceDb.currentLsn();
            await().atMost(WAIT).until(() -> inboxCount() >= written.get() && differences() == 0);
            await().atMost(WAIT).until(() -> sourceDb.confirmedLsn(slot) >= end);
            assertThat(pipeline.relay.lastFailure()).isEmpty();
        }
        assertCopyHoldsEachEventOnce(WRITERS * 250L);
    }

    /**
     * One event is held in its handler while later events of other keys are applied (and so wait for its
     * acknowledgement); everything is closed then, the relay's sends failing: the slot stays before the
     * held event, though the copy committed events after it. A second run on the same slot delivers them
     * again and the inbox drops what was applied already.
     */
    @Test
    void afterAStopWithAppliedButUnconfirmedEventsASecondRunOnTheSameSlotAppliesEachEventOnce() throws Exception {
        Handler<Message> copy = Accounts.copyTable().handler();
        CountDownLatch gate = new CountDownLatch(1);
        AtomicBoolean held = new AtomicBoolean();
        Pipeline first = new Pipeline((payload, context) -> {
            if (context.envelope().getSubject().equals("acc-gate")) {
                held.set(true);
                gate.await();
            }
            return copy.handle(payload, context);
        });
        AtomicLong written = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        for (Thread t : writers(150, written, failed)) {
            t.join();
        }
        writeOne("acc-gate", Capture.MESSAGE);
        long afterGate = sourceDb.currentLsn();
        long beforeGate = written.get();
        List<Thread> later = writers(150, written, failed);
        // Held, and an event committed after it is in the copy: applied, waiting for the held one's acknowledgement.
        await().atMost(WAIT).until(() -> held.get() && inboxCount() > beforeGate);
        assertThat(sourceDb.confirmedLsn(slot)).isLessThan(afterGate);

        first.publisher.close(); // the relay's sends fail: nothing after the held event can be confirmed
        gate.countDown(); // the dispatcher finishes what it holds; its acknowledgements complete nothing now
        first.relay.close();
        first.dispatcher.close();
        first.scope.close();
        open.remove(first);
        assertThat(sourceDb.confirmedLsn(slot)).isLessThan(afterGate);

        try (Pipeline second = new Pipeline(copy)) {
            for (Thread t : later) {
                t.join();
            }
            assertThat(failed).isFalse();
            await().atMost(WAIT).until(() -> inboxCount() >= written.get() + 1 && differences() == 0);
            assertThat(second.duplicates()).isPositive();
        }
        assertCopyHoldsEachEventOnce(written.get() + 1);
    }

    private void assertCopyHoldsEachEventOnce(long events) {
        assertThat(differences()).isZero();
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(*) FROM accounts_copy"))
                .isEqualTo(count(sourceDb.dataSource(), "SELECT COUNT(*) FROM accounts"));
        assertThat(inboxCount()).isEqualTo(events);
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(DISTINCT event_id) FROM eventsync_inbox")).isEqualTo(events);
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(*) FROM eventsync_dead_letters")).isZero();
        assertThat(count(sourceDb.dataSource(), "SELECT COUNT(*) FROM eventsync_outbox")).isZero();
    }

    /** Started writer threads, half writing logical messages and half outbox rows, {@code each} events each. */
    private List<Thread> writers(int each, AtomicLong written, AtomicBoolean failed) {
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            Capture capture = w % 2 == 0 ? Capture.MESSAGE : Capture.ROW;
            Thread t = new Thread(() -> {
                try {
                    for (int i = 0; i < each; i++) {
                        writeOne("acc-" + ThreadLocalRandom.current().nextInt(ACCOUNTS), capture);
                        written.incrementAndGet();
                    }
                } catch (SQLException | RuntimeException e) {
                    failed.set(true);
                    throw new IllegalStateException("writer failed: " + e, e);
                }
            }, "direct-writer-" + w);
            t.start();
            threads.add(t);
        }
        return threads;
    }

    /** A business change of {@code id} (an upsert, or now and then a delete) and its event, in one transaction. */
    private void writeOne(String id, Capture capture) throws SQLException {
        WalOutbox outbox = WalOutbox.of(source, sourceDb.names()).capture(capture);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        try (Connection c = sourceDb.dataSource().getConnection()) {
            c.setAutoCommit(false);
            long version = WalCrashTest.lockNextVersion(c, id);
            AccountChanged payload = WalCrashTest.payload(id, random.nextLong(1_000_000));
            Envelope event;
            if (WalCrashTest.exists(c, id) && random.nextInt(100) < 5) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM accounts WHERE account_id = ?")) {
                    ps.setString(1, id);
                    ps.executeUpdate();
                }
                event = Events.tombstone(source, id, version, payload);
            } else {
                WalCrashTest.upsert(c, payload, version);
                event = Events.create(source, id, version, payload);
            }
            outbox.append(c, event);
            c.commit();
        }
    }





    private long inboxCount() {
        return count(copyDb.dataSource(), "SELECT COUNT(*) FROM eventsync_inbox");
    }

    /** Rows that differ between source and copy, both ways, over every copied column. */
    private long differences() {
        String src = "SELECT " + COLUMNS + " FROM " + sourceDb.schema() + ".accounts";
        String cp = "SELECT " + COLUMNS + " FROM " + copyDb.schema() + ".accounts_copy";
        return count(sourceDb.dataSource(), "SELECT (SELECT COUNT(*) FROM (" + src + " EXCEPT " + cp + ") a)"
                + " + (SELECT COUNT(*) FROM (" + cp + " EXCEPT " + src + ") b)");
    }

    private static long count(DataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
