package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Timestamps;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.Position;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The binlog relay on a real MariaDB server with row-format binlogs (see {@link BinlogDatabase}). */
@Tag("database")
class BinlogRelayTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static BinlogRelay.Builder relay(BinlogDatabase db, DataSource ds, RecordingPublisher publisher) {
        return BinlogRelay.builder().dataSource(ds).names(db.names()).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(1)).freshnessHeartbeatInterval(Duration.ZERO)
                .meterRegistry(new SimpleMeterRegistry());
    }

    private static Position commit(BinlogDatabase db, Envelope... events) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Position p = Outbox.of("shop", db.names()).append(c, events);
            c.commit();
            return p;
        }
    }

    private static long outboxRows(BinlogDatabase db) {
        return db.queryLong("SELECT COUNT(*) FROM eventsync_outbox");
    }

    /** The stored position as one comparable number (file sequence, offset). */
    private static long stored(BinlogDatabase db) {
        return db.queryLong("SELECT (CAST(SUBSTRING_INDEX(binlog_file, '.', -1) AS UNSIGNED) << 32) + binlog_pos"
                + " FROM eventsync_binlog_position WHERE source = 'shop'");
    }

    private static long end(BinlogDatabase db) {
        try (Connection c = db.dataSource().getConnection()) {
            return io.eventsync.jdbc.internal.BinlogPositions.end(c).ordinal();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void publishesInCommitOrderWithTheWritersPositionsStoresOnlyConfirmedPositionsAndDeletesRelayedRows() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            BinlogRelay.begin(db.dataSource(), db.names(), "shop");
            RecordingPublisher publisher = new RecordingPublisher().rejecting(e -> e.getSubject().equals("refused"));
            Envelope a1 = TestEvents.event("shop", "a", 1);
            Envelope b1 = TestEvents.event("shop", "b", 1);
            Position pa1 = commit(db, a1);
            Position pb1 = commit(db, b1);
            long afterFirst = end(db);
            commit(db, TestEvents.event("shop", "refused", 1));
            commit(db, TestEvents.event("shop", "a", 2));
            try (Connection c = db.dataSource().getConnection()) { // another source's row in the same table
                Outbox.of("other", db.names()).append(c, TestEvents.event("other", "x", 1));
            }
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).build().start()) {
                await().atMost(WAIT).until(() -> publisher.confirmed.stream().anyMatch(e -> e.getSubject().equals("a")
                        && e.getSequence() == 2) && r.lastFailure().isPresent());
                // The refused event holds the position: stored up to the events before it, never past it.
                await().atMost(WAIT).until(() -> stored(db) >= afterFirst);
                long refusedAt = stored(db);
                assertThat(r.lastFailure().orElseThrow().getMessage()).contains("refused");
                // Deleted: a#1 and b#1. Kept: the refused row, a#2 behind it in the window, the other source's.
                await().atMost(WAIT).until(() -> outboxRows(db) == 3);
                assertThat(stored(db)).isEqualTo(refusedAt);

                publisher.rejecting(e -> false);
                long end = end(db);
                await().atMost(WAIT).until(() -> stored(db) >= end && outboxRows(db) == 1);
                Map<String, Envelope> first = firstDelivery(publisher.confirmed);
                assertThat(first.values()).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("a#1", "b#1", "a#2", "refused#1");
                // The positions the writers got back are the ones consumers see: awaitApplied works.
                assertThat(first.get(a1.getId()).getPosition()).isEqualTo(pa1.value());
                assertThat(first.get(b1.getId()).getPosition()).isEqualTo(pb1.value());
                assertThat(first.get(a1.getId()).toBuilder().clearPosition().build()).isEqualTo(a1);
                assertThat(db.queryLong("SELECT COUNT(*) FROM eventsync_outbox WHERE source = 'other'")).isOne();
            }
        }
    }

    /**
     * An event no transport takes (refused for good, over the transport's size limit) does not hold the
     * position: its row moves to the relay dead letters with the position past it, and the relay goes on;
     * a replay puts the row back in the outbox, where the relay reads it from the binlog again.
     */
    @Test
    void anEventNoTransportTakesBecomesARelayDeadLetterAndTheRelayGoesOn() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            BinlogRelay.begin(db.dataSource(), db.names(), "shop");
            RecordingPublisher publisher = new RecordingPublisher().maxEventBytes(4096)
                    .refusing(e -> e.getSubject().equals("k") && e.getSequence() == 1, "the broker refused it");
            Envelope k1 = TestEvents.event("shop", "k", 1);
            Envelope big = TestEvents.event("shop", "big", 1).toBuilder()
                    .setPayload(com.google.protobuf.Any.pack(com.google.protobuf.StringValue.of("x".repeat(5000)))).build();
            Position pk1 = commit(db, k1);
            commit(db, TestEvents.event("shop", "k", 2));
            commit(db, TestEvents.event("shop", "other", 1), big);
            long end = end(db);
            OutboxDeadLetters letters = OutboxDeadLetters.create(db.dataSource(), db.names());
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).build().start()) {
                await().atMost(WAIT).until(() -> stored(db) >= end && outboxRows(db) == 0);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("k#2", "other#1");
                List<OutboxDeadLetter> kept = letters.list("shop");
                assertThat(kept).extracting(OutboxDeadLetter::eventId).containsExactly(k1.getId(), big.getId());
                assertThat(kept.get(0).id()).isEqualTo(pk1.value());
                assertThat(kept.get(0).reason()).startsWith("rejected:").contains("the broker refused it");
                assertThat(kept.get(1).reason()).startsWith("oversize:").contains("over the transport's limit of 4096");
                assertThat(r.lastFailure()).isEmpty();

                publisher.refusing(e -> false, "");
                letters.replay("shop", pk1.value());
                letters.discard("shop", kept.get(1).id());
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 3 && outboxRows(db) == 0);
                Envelope again = publisher.confirmed.get(2);
                assertThat(again.getId()).isEqualTo(k1.getId());
                assertThat(again.getPosition()).isEqualTo(pk1.value());
                assertThat(letters.count("shop")).isZero();
            }
        }
    }

    /**
     * A transaction that started first and commits last is published after the others, and nothing is
     * skipped; a rolled-back transaction publishes nothing.
     */
    @Test
    void lateCommitIsPublishedAfterTheOthersAndARollbackPublishesNothing() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            RecordingPublisher publisher = new RecordingPublisher();
            Outbox outbox = Outbox.of("shop", db.names());
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).createPosition(true).build().start();
                 Connection slow = db.dataSource().getConnection();
                 Connection fast = db.dataSource().getConnection();
                 Connection undone = db.dataSource().getConnection()) {
                await().atMost(WAIT).until(r::isStreaming);
                slow.setAutoCommit(false);
                fast.setAutoCommit(false);
                undone.setAutoCommit(false);
                Envelope late = TestEvents.event("shop", "s", 2);
                Envelope early = TestEvents.event("shop", "s", 1);
                Envelope rolledBack = TestEvents.event("shop", "gone", 1);
                long latePosition = outbox.append(slow, late).value();
                outbox.append(undone, rolledBack);
                outbox.append(fast, early, TestEvents.event("shop", "other", 1));
                fast.commit();
                undone.rollback();
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 2);
                // The late row has the lowest id and is still uncommitted: the relay's deletes passed it by.
                await().atMost(WAIT).until(() -> outboxRows(db) == 0);

                slow.commit();
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 3);
                assertThat(publisher.confirmed).extracting(Envelope::getId)
                        .containsExactly(early.getId(), publisher.confirmed.get(1).getId(), late.getId());
                assertThat(publisher.confirmed.get(2).getPosition()).isEqualTo(latePosition);
                Position after = commit(db, TestEvents.event("shop", "after", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 4);
                assertThat(publisher.confirmed).extracting(Envelope::getId).doesNotContain(rolledBack.getId());
                assertThat(publisher.confirmed.get(3).getPosition()).isEqualTo(after.value());
                await().atMost(WAIT).until(() -> outboxRows(db) == 0);
            }
        }
    }

    /**
     * The standby takes over when the leader is deposed, and nothing is lost. The deposed relay renews
     * its lease only once an hour, as if paused: it learns nothing from its own lease before the
     * successor starts, so its fenced confirm and the successor's dump (same replica server id) are
     * what stop it. It publishes nothing written after the takeover and stores no position after it.
     * When the new leader stops, the other standby takes over.
     */
    @Test
    void standbyTakesOverADeposedRelayCannotConfirmAndNothingIsLost() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            BinlogRelay.begin(db.dataSource(), db.names(), "shop");
            RecordingPublisher toA = new RecordingPublisher();
            RecordingPublisher toB = new RecordingPublisher();
            RecordingPublisher toC = new RecordingPublisher();
            BinlogRelay a = relay(db, db.dataSource(), toA).owner("relay-a").leaseDuration(Duration.ofHours(1))
                    .build().start();
            await().atMost(WAIT).until(a::isStreaming);
            BinlogRelay b = relay(db, db.dataSource(), toB).owner("relay-b").build().start();
            BinlogRelay c = relay(db, db.dataSource(), toC).owner("relay-c").build().start();

            int subjects = 6;
            List<String> written = new CopyOnWriteArrayList<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                try {
                    for (int seq = 1; writing.get(); seq++) {
                        Envelope[] batch = new Envelope[subjects];
                        for (int s = 0; s < subjects; s++) {
                            batch[s] = TestEvents.event("shop", "subject-" + s, seq);
                        }
                        commit(db, batch);
                        for (Envelope e : batch) {
                            written.add(e.getId());
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "test-writer");
            writer.start();
            try {
                await().atMost(WAIT).until(() -> toA.confirmed.size() > 100 && a.confirmedPosition().isPresent());
                assertThat(b.isLeader() || c.isLeader()).isFalse();
                long epochA = a.epoch();
                // Depose A: its lease goes to B, as if A had paused past its lease and B had taken over.
                db.execute("UPDATE eventsync_lease SET owner = 'relay-b', epoch = epoch + 1,"
                        + " expires_at = UTC_TIMESTAMP(6) + INTERVAL 1 HOUR WHERE name = 'binlog:shop'");
                await().atMost(WAIT).until(() -> b.isStreaming() && !a.isStreaming() && !a.isLeader());
                int writtenAtTakeover = written.size();
                var confirmedByA = a.confirmedPosition();
                await().atMost(WAIT).until(() -> written.size() > writtenAtTakeover + 120);
                List<String> afterTakeover = since(written, writtenAtTakeover);
                await().atMost(WAIT).until(() -> ids(toB).containsAll(afterTakeover));
                assertThat(ids(toA)).doesNotContainAnyElementsOf(afterTakeover);
                assertThat(a.confirmedPosition()).isEqualTo(confirmedByA);
                assertThat(b.epoch()).isGreaterThan(epochA);
                assertThat(c.isLeader()).isFalse();

                // The leader stops and gives its lease up; a standby takes over.
                b.close();
                await().atMost(WAIT).until(c::isStreaming);
                int writtenAtHandover = written.size();
                await().atMost(WAIT).until(() -> written.size() > writtenAtHandover + 60);
                List<String> afterHandover = since(written, writtenAtHandover);
                await().atMost(WAIT).until(() -> ids(toC).containsAll(afterHandover));
            } finally {
                writing.set(false);
                writer.join(30_000);
            }
            long end = end(db);
            await().atMost(WAIT).until(() -> stored(db) >= end && outboxRows(db) == 0);
            a.close();
            c.close();

            List<Envelope> all = new ArrayList<>(toA.confirmed);
            all.addAll(toB.confirmed);
            all.addAll(toC.confirmed);
            assertThat(firstDelivery(all).keySet()).containsAll(written);
            for (RecordingPublisher p : List.of(toA, toB, toC)) {
                assertSequencesIncreasePerSubject(firstDelivery(p.confirmed).values());
            }
        }
    }

    /** Heartbeats go out while idle and vouch for every event committed before their time. */
    @Test
    void freshnessHeartbeatsFollowTheEventsCommittedBeforeThem() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            RecordingPublisher publisher = new RecordingPublisher();
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).createPosition(true)
                    .freshnessHeartbeatInterval(Duration.ofMillis(100)).build().start()) {
                await().atMost(WAIT).until(r::isStreaming);
                for (int i = 1; i <= 3; i++) {
                    commit(db, TestEvents.event("shop", "k", i));
                }
                Instant committed = Instant.ofEpochMilli(db.queryLong(
                        "SELECT CAST(UNIX_TIMESTAMP(NOW(6)) * 1000 AS SIGNED)"));
                await().atMost(WAIT).until(() -> publisher.heartbeats.stream().anyMatch(h ->
                        Timestamps.toMillis(h.getTime()) >= committed.toEpochMilli()));
                for (int i = 0; i < publisher.heartbeats.size(); i++) {
                    if (Timestamps.toMillis(publisher.heartbeats.get(i).getTime()) >= committed.toEpochMilli()) {
                        assertThat(publisher.confirmedBeforeHeartbeat.get(i)).isEqualTo(3);
                    }
                }
                assertThat(publisher.confirmed).hasSize(3);
            }
        }
    }

    @Test
    void aMissingPositionIsAClearErrorAndCreatePositionStoresTheCurrentEnd() throws Exception {
        try (BinlogDatabase db = BinlogDatabase.create()) {
            RecordingPublisher publisher = new RecordingPublisher();
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).build().start()) {
                await().atMost(WAIT).until(() -> r.lastFailure().isPresent());
                assertThat(r.lastFailure().orElseThrow().getMessage()).contains("no binlog position", "BinlogRelay.begin",
                        "createPosition");
            }
            try (BinlogRelay r = relay(db, db.dataSource(), publisher).createPosition(true).build().start()) {
                await().atMost(WAIT).until(r::isStreaming);
                Position p = commit(db, TestEvents.event("shop", "x", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 1);
                assertThat(publisher.confirmed.get(0).getPosition()).isEqualTo(p.value());
            }
        }
    }

    @Test
    void theBinlogModeIsRefusedWithTheSettingToChangeWhereTheBinlogIsOff() throws Exception {
        // The shared server runs without a binlog (read only here: SELECT @@log_bin).
        try (HikariDataSource shared = TestDatabase.pool(TestDatabase.MARIADB_URL + "?user=root", 1)) {
            assertThatThrownBy(() -> BinlogRelay.requireRowBinlog(shared)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("log_bin=OFF").hasMessageContaining("binlog_format=ROW")
                    .hasMessageContaining("relay.mode: query");
        }
        try (TestDatabase h2 = TestDatabase.create(TestDatabase.Kind.H2)) {
            assertThatThrownBy(() -> BinlogRelay.requireRowBinlog(h2.dataSource())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("needs MariaDB or MySQL");
            assertThatThrownBy(() -> BinlogRelay.builder().dataSource(h2.dataSource()).source("shop")
                    .publisher(new RecordingPublisher()).build()).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("jdbc:mariadb:");
        }
    }

    private static List<String> ids(RecordingPublisher p) {
        return p.confirmed.stream().map(Envelope::getId).toList();
    }

    private static Map<String, Envelope> firstDelivery(List<Envelope> delivered) {
        Map<String, Envelope> first = new LinkedHashMap<>();
        for (Envelope e : delivered) {
            first.putIfAbsent(e.getId(), e);
        }
        return first;
    }

    private static void assertSequencesIncreasePerSubject(Iterable<Envelope> events) {
        Map<String, Long> last = new LinkedHashMap<>();
        for (Envelope e : events) {
            Long previous = last.put(e.getSubject(), e.getSequence());
            if (previous != null) {
                assertThat(e.getSequence()).as(e.getSubject()).isGreaterThan(previous);
            }
        }
    }

    /** The ids written from index {@code from} on, from one snapshot of the live list. */
    private static List<String> since(List<String> written, int from) {
        List<String> snapshot = List.copyOf(written);
        return new ArrayList<>(snapshot.subList(from, snapshot.size()));
    }
}
