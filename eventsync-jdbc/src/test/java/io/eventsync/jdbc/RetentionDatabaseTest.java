package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.inprocess.InProcessTransport;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Retention of the inbox, the copy tombstones and the embedded log on the real databases, while a
 * consumer applies: rows past the window go, in statements of at most 1,000 rows; nothing inside the
 * window is touched; and what the documented windows mean for a late duplicate holds.
 */
@Tag("database")
class RetentionDatabaseTest {
    private static final String TOPIC = "accounts";
    private static final String GROUP = "accounts-copy";
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private static final Instant EIGHT_DAYS_AGO = Instant.now().minus(Duration.ofDays(8));
    private static final Instant SIX_DAYS_AGO = Instant.now().minus(Duration.ofDays(6));

    private static Envelope event(String subject, long sequence) {
        return Events.create(Accounts.SOURCE, subject, sequence, account(subject, sequence * 100));
    }

    private static Envelope tombstone(String subject, long sequence) {
        return event(subject, sequence).toBuilder().setTombstone(true).build();
    }

    private static CompletableFuture<Void> send(Publisher publisher, Envelope e) {
        return publisher.send(new OutboundEvent(e, CODEC.encode(e)));
    }

    private static void sendAll(Publisher publisher, List<Envelope> events) throws Exception {
        List<CompletableFuture<Void>> sent = new ArrayList<>();
        for (Envelope e : events) {
            sent.add(send(publisher, e));
        }
        CompletableFuture.allOf(sent.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
    }

    private static ConsumerRig consumer(Transport transport, TestDb db, CopyTable copy) {
        HandlerRegistry handlers = HandlerRegistry.builder()
                .on(AccountChanged.getDescriptor(), copy.handler(), HandlerOptions.defaults()).build();
        return new ConsumerRig(transport, TOPIC, GROUP, db.dataSource(), handlers);
    }

    /** Rows as the apply path writes them, stamped {@code at}. */
    private static void inboxRows(TestDb db, String idPrefix, int n, Instant at) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO eventsync_inbox (subscription, event_id, source, source_position, applied_at)"
                        + " VALUES (?, ?, ?, ?, ?)")) {
            for (int i = 0; i < n; i++) {
                ps.setString(1, GROUP);
                ps.setString(2, idPrefix + i);
                ps.setString(3, Accounts.SOURCE);
                ps.setLong(4, 1_000_000 + i);
                ps.setTimestamp(5, Timestamp.from(at));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void tombstoneRows(TestDb db, String copyTable, String keyPrefix, int n, Instant at) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO eventsync_copy_tombstones (copy_table, row_key, version, deleted_at) VALUES (?, ?, ?, ?)")) {
            for (int i = 0; i < n; i++) {
                ps.setString(1, copyTable);
                ps.setString(2, keyPrefix + i);
                ps.setLong(3, 2);
                ps.setTimestamp(4, Timestamp.from(at));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static void stamp(TestDb db, String sql, Instant at) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.executeUpdate();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void inboxRowsPastTheDedupWindowAreDeletedInBatchesWhileAConsumerRuns(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind, 16).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            try (ConsumerRig consumer = consumer(transport, db, copy)) {
                Publisher publisher = transport.publisher(TOPIC);
                List<Envelope> firstVersions = new ArrayList<>();
                for (int k = 0; k < 40; k++) {
                    firstVersions.add(event("k" + k, 1));
                }
                sendAll(publisher, firstVersions);
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM eventsync_inbox") == 40);
                // Those 40 were applied a week and a day ago; so were 2,500 others; 50 six days ago.
                stamp(db, "UPDATE eventsync_inbox SET applied_at = ?", EIGHT_DAYS_AGO);
                inboxRows(db, "old-", 2_500, EIGHT_DAYS_AGO);
                inboxRows(db, "recent-", 50, SIX_DAYS_AGO);

                List<Envelope> later = new ArrayList<>();
                for (int v = 2; v <= 10; v++) {
                    for (int k = 0; k < 40; k++) {
                        later.add(event("k" + k, v));
                    }
                }
                CompletableFuture<Void> applying = CompletableFuture.runAsync(() -> {
                    try {
                        sendAll(publisher, later);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Purged purged = consumer.inbox.purge();
                applying.get(30, TimeUnit.SECONDS);
                await().atMost(CONVERGE).until(() ->
                        db.count("SELECT COUNT(*) FROM accounts_copy WHERE version = 10") == 40);

                assertThat(purged.rows()).isEqualTo(2_540);
                assertThat(purged.statements()).isEqualTo(3); // 1,000 + 1,000 + 540
                assertThat(purged.table()).endsWith(".eventsync_inbox");
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox WHERE event_id LIKE 'old-%'")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox WHERE event_id LIKE 'recent-%'")).isEqualTo(50);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(50 + 40 * 9);
                for (Envelope e : later) {
                    assertThat(consumer.inbox.contains(GROUP, e.getId())).isTrue();
                }

                // A duplicate older than the window reaches the handler again: CopyTable's version guard skips it.
                double skipped = consumer.meters.counter("eventsync.dispatcher.skipped", "subscription", GROUP,
                        "type", AccountChanged.getDescriptor().getFullName()).count();
                sendAll(publisher, List.of(firstVersions.get(0)));
                await().atMost(CONVERGE).until(() -> consumer.meters.counter("eventsync.dispatcher.skipped",
                        "subscription", GROUP, "type", AccountChanged.getDescriptor().getFullName()).count() == skipped + 1);
                assertThat(consumer.inbox.contains(GROUP, firstVersions.get(0).getId())).isTrue();
                assertThat(db.count("SELECT balance_cents FROM accounts_copy WHERE account_id = 'k0'")).isEqualTo(1_000);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void tombstonesPastTheirWindowAreDeletedInBatchesWhileAConsumerRuns(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind, 16).withConsumerTables();
             InProcessTransport transport = InProcessTransport.create()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            try (ConsumerRig consumer = consumer(transport, db, copy)) {
                Publisher publisher = transport.publisher(TOPIC);
                List<Envelope> deletes = new ArrayList<>();
                for (int k = 0; k < 20; k++) {
                    deletes.add(event("d" + k, 1));
                    deletes.add(tombstone("d" + k, 2));
                }
                sendAll(publisher, deletes);
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones") == 20);
                // The apply path stamps each deletion: all 20 are inside the window.
                assertThat(count(db, "SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE deleted_at > ?", SIX_DAYS_AGO))
                        .isEqualTo(20);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();
                // d0..d9 were deleted a week and a day ago, and so were 2,500 other rows; 30 six days ago;
                // another copy table's old tombstones are its own table's business.
                stamp(db, "UPDATE eventsync_copy_tombstones SET deleted_at = ? WHERE row_key IN ("
                        + "'2:d0', '2:d1', '2:d2', '2:d3', '2:d4', '2:d5', '2:d6', '2:d7', '2:d8', '2:d9')", EIGHT_DAYS_AGO);
                tombstoneRows(db, "accounts_copy", "old-", 2_500, EIGHT_DAYS_AGO);
                tombstoneRows(db, "accounts_copy", "recent-", 30, SIX_DAYS_AGO);
                tombstoneRows(db, "other_copy", "old-", 100, EIGHT_DAYS_AGO);

                List<Envelope> more = new ArrayList<>();
                for (int k = 0; k < 20; k++) {
                    more.add(event("e" + k, 1));
                    more.add(tombstone("e" + k, 2));
                }
                CompletableFuture<Void> applying = CompletableFuture.runAsync(() -> {
                    try {
                        sendAll(publisher, more);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Purged purged = copy.purgeTombstones(db.dataSource());
                applying.get(30, TimeUnit.SECONDS);
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones"
                        + " WHERE row_key LIKE '2:e%' OR row_key LIKE '3:e1%'") == 20);

                assertThat(purged.rows()).isEqualTo(2_510);
                assertThat(purged.statements()).isEqualTo(3); // 1,000 + 1,000 + 510
                assertThat(purged.table()).endsWith(".eventsync_copy_tombstones[accounts_copy]");
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE row_key LIKE 'old-%'"
                        + " AND copy_table = 'accounts_copy'")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE copy_table = 'other_copy'"))
                        .isEqualTo(100);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE row_key LIKE 'recent-%'"))
                        .isEqualTo(30);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE row_key LIKE '2:d%'")).isZero();
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones WHERE row_key LIKE '3:d1%'"))
                        .isEqualTo(10);

                // An event older than a deletion still remembered is stale; past the window it is not.
                sendAll(publisher, List.of(event("d15", 1), event("d5", 1)));
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM accounts_copy") == 1);
                assertThat(db.count("SELECT COUNT(*) FROM accounts_copy WHERE account_id = 'd5'")).isEqualTo(1);
            }
        }
    }

    /** The consumer here only acknowledges (the apply path is the other tests' business): the log is what is retained. */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void logEntriesPastRetentionAreDeletedInBatchesWhileAConsumerRuns(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind, 16).withConsumerTables();
             EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource())
                     .retention(Duration.ofDays(1), Duration.ofHours(1)).build()) {
            AtomicLong delivered = new AtomicLong();
            try (Subscription consumer = log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), d -> {
                delivered.incrementAndGet();
                d.ack();
            })) {
                Publisher publisher = log.publisher(TOPIC);
                List<Envelope> events = new ArrayList<>();
                for (int i = 0; i < 2_300; i++) {
                    events.add(event("k" + (i % 100), i / 100 + 1));
                }
                sendAll(publisher, events);
                String groupOffset = "SELECT next_offset FROM eventsync_log_group WHERE consumer_group = '" + GROUP + "'";
                await().atMost(CONVERGE).until(() -> db.count(groupOffset) == 2_300);
                // The first 2,100 entries were written two days ago; the group has passed all 2,300.
                stamp(db, "UPDATE eventsync_log SET created_at = ? WHERE log_offset < 2100",
                        Instant.now().minus(Duration.ofDays(2)));

                List<Envelope> more = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    more.add(event("k" + (i % 100), 24 + i / 100));
                }
                CompletableFuture<Void> appending = CompletableFuture.runAsync(() -> {
                    try {
                        sendAll(publisher, more);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                List<Purged> purged = log.retainTopics(() -> true);
                appending.get(30, TimeUnit.SECONDS);
                await().atMost(CONVERGE).until(() -> db.count(groupOffset) == 2_500);

                assertThat(purged).hasSize(1);
                assertThat(purged.get(0).table()).endsWith(".eventsync_log[" + TOPIC + "]");
                assertThat(purged.get(0).rows()).isEqualTo(2_100);
                assertThat(purged.get(0).statements()).isGreaterThanOrEqualTo(3); // at most 1,000 entries each
                assertThat(db.count("SELECT MIN(log_offset) FROM eventsync_log")).isEqualTo(2_100);
                assertThat(db.count("SELECT COUNT(*) FROM eventsync_log")).isEqualTo(400);
                assertThat(delivered.get()).isGreaterThanOrEqualTo(2_500);
            }
        }
    }

    @Test
    void aStartedRetentionPurgesEveryIntervalUntilClosed() throws Exception {
        try (TestDb db = TestDb.create(TestDb.Kind.H2).withConsumerTables()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            Inbox inbox = Inbox.builder(db.dataSource()).dedupWindow(Duration.ofDays(7)).build();
            io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            inboxRows(db, "old-", 1_200, EIGHT_DAYS_AGO);
            tombstoneRows(db, "accounts_copy", "old-", 300, EIGHT_DAYS_AGO);
            inboxRows(db, "recent-", 10, SIX_DAYS_AGO);

            try (Retention retention = Retention.builder("accounts-copy").inbox(inbox)
                    .tombstones(db.dataSource(), List.of(copy)).every(Duration.ofMillis(50))
                    .meterRegistry(meters).build().start()) {
                await().atMost(CONVERGE).until(() -> db.count("SELECT COUNT(*) FROM eventsync_inbox") == 10
                        && db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones") == 0);
                await().atMost(CONVERGE).until(() -> meters.find("eventsync.retention.deleted").counters().stream()
                        .mapToDouble(c -> c.count()).sum() == 1_500);
            }
            assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t ->
                    t.getName().equals("eventsync-retention-accounts-copy") && t.isAlive());
        }
    }

    private static long count(TestDb db, String sql, Instant at) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(at));
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
