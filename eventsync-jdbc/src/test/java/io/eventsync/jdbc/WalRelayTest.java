package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.Position;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.jdbc.WalOutbox.Capture;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The WAL relay on a real PostgreSQL cluster with wal_level=logical (see {@link LogicalDatabase}). */
@Tag("database")
class WalRelayTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static WalRelay.Builder relay(LogicalDatabase db, DataSource ds, String slot, RecordingPublisher publisher) {
        return WalRelay.builder().dataSource(ds).names(db.names()).source("shop").slot(slot).publication(slot)
                .publisher(publisher).leaseDuration(Duration.ofSeconds(1)).meterRegistry(new SimpleMeterRegistry());
    }

    private static WalOutbox outbox(LogicalDatabase db, Capture capture) {
        return WalOutbox.of("shop", db.names()).capture(capture);
    }

    private static Position commit(LogicalDatabase db, Capture capture, Envelope... events) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Position p = outbox(db, capture).append(c, events);
            c.commit();
            return p;
        }
    }

    @Test
    void publishesMessagesAndRowsWithTheWritersPositionsAndConfirmsOnlyWhatTheTransportConfirmed() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("basic", true);
            RecordingPublisher publisher = new RecordingPublisher().rejecting(e -> e.getSubject().equals("refused"));
            Envelope a1 = TestEvents.event("shop", "a", 1);
            Envelope b1 = TestEvents.event("shop", "b", 1);
            Position pa1 = commit(db, Capture.MESSAGE, a1);
            Position pb1 = commit(db, Capture.ROW, b1);
            long afterFirst = db.currentLsn();
            Position refused = commit(db, Capture.MESSAGE, TestEvents.event("shop", "refused", 1));
            commit(db, Capture.ROW, TestEvents.event("shop", "a", 2));
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start()) {
                await().atMost(WAIT).until(() -> publisher.confirmed.stream().anyMatch(e -> e.getSubject().equals("a")
                        && e.getSequence() == 2) && r.lastFailure().isPresent());
                // The refused event holds the slot: it is confirmed up to the events before it, never past it.
                await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= afterFirst);
                assertThat(db.confirmedLsn(slot)).isLessThan(refused.value());
                assertThat(r.lastFailure().orElseThrow().getMessage()).contains("refused");
                assertThat(db.queryLong("SELECT COUNT(*) FROM eventsync_outbox")).isZero(); // row capture left nothing

                publisher.rejecting(e -> false);
                long end = db.currentLsn();
                await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= end);
                Map<String, Envelope> first = firstDelivery(publisher.confirmed);
                assertThat(first.values()).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("a#1", "b#1", "a#2", "refused#1");
                // The positions the writers got back are the ones consumers see: awaitApplied works.
                assertThat(first.get(a1.getId()).getPosition()).isEqualTo(pa1.value());
                assertThat(first.get(b1.getId()).getPosition()).isEqualTo(pb1.value());
                assertThat(first.get(a1.getId()).toBuilder().clearPosition().build()).isEqualTo(a1);
            }
        }
    }

    @Test
    void laterEventOfAKeyWaitsWhileAnEarlierOneOfTheKeyFails() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("chain", true);
            RecordingPublisher publisher = new RecordingPublisher()
                    .rejecting(e -> e.getSubject().equals("k") && e.getSequence() == 1);
            commit(db, Capture.MESSAGE, TestEvents.event("shop", "k", 1), TestEvents.event("shop", "other", 1),
                    TestEvents.event("shop", "k", 2));
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start()) {
                await().atMost(WAIT).until(() -> !publisher.confirmed.isEmpty() && r.lastFailure().isPresent());
                assertThat(publisher.confirmed).extracting(Envelope::getSubject).containsOnly("other");
                publisher.rejecting(e -> false);
                await().atMost(WAIT).until(() -> publisher.confirmed.stream().anyMatch(e -> e.getSequence() == 2));
                assertThat(firstDelivery(publisher.confirmed).values()).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("other#1", "k#1", "k#2");
            }
        }
    }

    /**
     * An event no transport takes (refused for good, over the transport's size limit) must not hold the
     * slot and every key behind it: it becomes a relay dead letter and the relay goes on; a replay sends it
     * again through the WAL, a discard drops it.
     */
    @ParameterizedTest
    @EnumSource(Capture.class)
    void anEventNoTransportTakesBecomesARelayDeadLetterAndTheRelayGoesOn(Capture capture) throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("poison", true);
            RecordingPublisher publisher = new RecordingPublisher().maxEventBytes(4096)
                    .refusing(e -> e.getSubject().equals("k") && e.getSequence() == 1, "the broker refused it");
            Envelope k1 = TestEvents.event("shop", "k", 1);
            Envelope big = TestEvents.event("shop", "big", 1).toBuilder()
                    .setPayload(com.google.protobuf.Any.pack(com.google.protobuf.StringValue.of("x".repeat(5000)))).build();
            Position pk1 = commit(db, capture, k1);
            commit(db, capture, TestEvents.event("shop", "k", 2));
            commit(db, capture, TestEvents.event("shop", "other", 1), big);
            long end = db.currentLsn();
            OutboxDeadLetters letters = OutboxDeadLetters.create(db.dataSource(), db.names());
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start()) {
                await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= end);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("k#2", "other#1");
                List<OutboxDeadLetter> kept = letters.list("shop");
                assertThat(kept).extracting(OutboxDeadLetter::eventId).containsExactlyInAnyOrder(k1.getId(), big.getId());
                OutboxDeadLetter refused = kept.stream().filter(l -> l.eventId().equals(k1.getId())).findFirst().orElseThrow();
                OutboxDeadLetter oversize = kept.stream().filter(l -> l.eventId().equals(big.getId())).findFirst().orElseThrow();
                assertThat(refused.id()).isEqualTo(pk1.value());
                assertThat(refused.key()).isEqualTo("k");
                assertThat(refused.reason()).startsWith("[WAL relay] rejected:").contains("the broker refused it");
                assertThat(oversize.reason()).startsWith("[WAL relay] oversize:").contains("over the transport's limit of 4096");
                assertThat(r.lastFailure()).isEmpty();

                publisher.refusing(e -> false, "");
                letters.replay("shop", refused.id());
                letters.discard("shop", oversize.id());
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 3);
                Envelope again = publisher.confirmed.get(2);
                assertThat(again.getId()).isEqualTo(k1.getId());
                assertThat(again.getPosition()).isEqualTo(pk1.value()); // its position, so awaitApplied still matches
                assertThat(again.toBuilder().clearPosition().build()).isEqualTo(k1);
                assertThat(letters.count("shop")).isZero();
                assertThat(db.queryLong("SELECT COUNT(*) FROM eventsync_outbox")).isZero(); // the replay left no row
                long afterReplay = db.currentLsn();
                await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= afterReplay);
                assertThat(publisher.confirmed).hasSize(3); // the discarded one never went out
            }
        }
    }

    @Test
    void aWalRelayLetterIsNotReplayedWhereNoWalRelayWouldReadIt() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            Envelope e = TestEvents.event("shop", "k", 1).toBuilder().setPosition(4242).build();
            try (Connection c = db.dataSource().getConnection()) {
                WalSlot.keepRefused(c, io.eventsync.jdbc.internal.Tables.resolve(c, db.names()), "shop",
                        new io.eventsync.transport.OutboundEvent(e, e.toByteArray()), "rejected: refused");
            }
            OutboxDeadLetters letters = OutboxDeadLetters.create(db.dataSource(), db.names());
            assertThatThrownBy(() -> letters.replay("shop", 4242)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("no publication covers").hasMessageContaining("nothing was changed");
            assertThat(letters.count("shop")).isEqualTo(1);
            assertThat(db.queryLong("SELECT COUNT(*) FROM eventsync_outbox")).isZero();
        }
    }

    /**
     * A transaction that started first and commits last is published after the others, and nothing is
     * skipped; a rolled-back transaction publishes nothing.
     */
    @ParameterizedTest
    @EnumSource(Capture.class)
    void lateCommitIsPublishedAfterTheOthersAndARollbackPublishesNothing(Capture capture) throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("late", true);
            RecordingPublisher publisher = new RecordingPublisher();
            WalOutbox outbox = outbox(db, capture);
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start();
                 Connection slow = db.dataSource().getConnection();
                 Connection fast = db.dataSource().getConnection();
                 Connection undone = db.dataSource().getConnection()) {
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

                slow.commit();
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 3);
                assertThat(publisher.confirmed).extracting(Envelope::getId)
                        .containsExactly(early.getId(), publisher.confirmed.get(1).getId(), late.getId());
                assertThat(publisher.confirmed.get(2).getPosition()).isEqualTo(latePosition);
                Position after = commit(db, capture, TestEvents.event("shop", "after", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 4);
                assertThat(publisher.confirmed).extracting(Envelope::getId).doesNotContain(rolledBack.getId());
                assertThat(publisher.confirmed.get(3).getPosition()).isEqualTo(after.value());
            }
        }
    }

    /**
     * The standby takes over when the leader is deposed, ends the deposed relay's stream, and nothing is
     * lost. The deposed relay renews its lease only once an hour, as if paused: it learns nothing from
     * its own lease before the successor starts, so only being cut off stops it. It publishes nothing
     * written after the takeover and confirms nothing more. When the new leader stops, the other
     * standby takes over.
     */
    @Test
    void standbyTakesOverADeposedRelayIsCutOffAndNothingIsLost() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("failover", true);
            RecordingPublisher toA = new RecordingPublisher();
            RecordingPublisher toB = new RecordingPublisher();
            RecordingPublisher toC = new RecordingPublisher();
            WalRelay a = relay(db, db.dataSource(), slot, toA).owner("relay-a").leaseDuration(Duration.ofHours(1))
                    .build().start();
            await().atMost(WAIT).until(a::isStreaming);
            WalRelay b = relay(db, db.dataSource(), slot, toB).owner("relay-b").build().start();
            WalRelay c = relay(db, db.dataSource(), slot, toC).owner("relay-c").build().start();

            int subjects = 6;
            List<String> written = new java.util.concurrent.CopyOnWriteArrayList<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                try {
                    for (int seq = 1; writing.get(); seq++) {
                        Envelope[] batch = new Envelope[subjects];
                        for (int s = 0; s < subjects; s++) {
                            batch[s] = TestEvents.event("shop", "subject-" + s, seq);
                        }
                        commit(db, seq % 2 == 0 ? Capture.ROW : Capture.MESSAGE, batch);
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
                await().atMost(WAIT).until(() -> toA.confirmed.size() > 100);
                assertThat(b.isLeader() || c.isLeader()).isFalse();
                long epochA = a.epoch();
                // Depose A: its lease goes to B, as if A had paused past its lease and B had taken over.
                db.execute("UPDATE eventsync_lease SET owner = 'relay-b', epoch = epoch + 1,"
                        + " expires_at = CURRENT_TIMESTAMP + INTERVAL '1 hour' WHERE name = 'wal:" + slot + "'");
                await().atMost(WAIT).until(() -> b.isStreaming() && !a.isStreaming() && !a.isLeader());
                int writtenAtTakeover = written.size();
                long confirmedByA = a.confirmedLsn();
                await().atMost(WAIT).until(() -> written.size() > writtenAtTakeover + 120);
                List<String> afterTakeover = since(written, writtenAtTakeover);
                await().atMost(WAIT).until(() -> ids(toB).containsAll(afterTakeover));
                assertThat(ids(toA)).doesNotContainAnyElementsOf(afterTakeover);
                assertThat(a.confirmedLsn()).isEqualTo(confirmedByA);
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
            long end = db.currentLsn();
            await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= end);
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

    private static List<String> ids(RecordingPublisher p) {
        return p.confirmed.stream().map(Envelope::getId).toList();
    }

    /** No event is ever written: heartbeats alone move the slot's confirmed position past the current WAL. */
    @Test
    void idleSlotKeepsAdvancingWithHeartbeatsOnly() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("idle", true);
            long created = db.confirmedLsn(slot);
            SimpleMeterRegistry metrics = new SimpleMeterRegistry();
            try (WalRelay r = relay(db, db.dataSource(), slot, new RecordingPublisher())
                    .heartbeatInterval(Duration.ofMillis(200)).meterRegistry(metrics).build().start()) {
                await().atMost(WAIT).until(r::isStreaming);
                for (int round = 0; round < 3; round++) {
                    long now = db.currentLsn();
                    await().atMost(WAIT).until(() -> db.confirmedLsn(slot) >= now);
                }
                assertThat(db.confirmedLsn(slot)).isGreaterThan(created);
                assertThat(metrics.get("eventsync.relay.slot_lag_bytes").tag("slot", slot).gauge().value()).isNotNegative();
                assertThat(r.lastFailure()).isEmpty();
            }
        }
    }

    /** A writer in another language: plain SQL through psql, as a logical message and as an outbox row. */
    @Test
    void psqlWriterIsRelayed() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("psql", true);
            RecordingPublisher publisher = new RecordingPublisher();
            Envelope message = TestEvents.event("shop", "from-psql", 1);
            Envelope row = TestEvents.event("shop", "from-psql", 2);
            String hex1 = HexFormat.of().formatHex(message.toByteArray());
            String hex2 = HexFormat.of().formatHex(row.toByteArray());
            String sql = "BEGIN;"
                    + " SELECT pg_logical_emit_message(true, 'eventsync:shop', decode('" + hex1 + "', 'hex'));"
                    + " INSERT INTO " + db.schema() + ".eventsync_outbox (source, event_id, subject, event_type,"
                    + " event_sequence, payload) VALUES ('shop', '" + row.getId() + "', 'from-psql', '" + row.getType()
                    + "', 2, decode('" + hex2 + "', 'hex'));"
                    + " COMMIT;";
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start()) {
                await().atMost(WAIT).until(r::isStreaming);
                Process psql = new ProcessBuilder("psql", "-h", "127.0.0.1", "-p", String.valueOf(LogicalDatabase.port()),
                        "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-c", sql).redirectErrorStream(true).start();
                String output = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(psql.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(psql.exitValue()).as(output).isZero();
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 2);
                assertThat(publisher.confirmed).extracting(e -> e.toBuilder().clearPosition().build())
                        .containsExactly(message, row);
                assertThat(publisher.confirmed).allMatch(e -> e.getPosition() > 0);
            }
        }
    }

    @Test
    void aMissingSlotIsAClearErrorAndCreateSlotMakesItOnAFirstRunOnly() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("missing", false);
            RecordingPublisher publisher = new RecordingPublisher();
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).build().start()) {
                await().atMost(WAIT).until(() -> r.lastFailure().isPresent());
                assertThat(r.lastFailure().orElseThrow().getMessage()).contains(slot, "does not exist", "createSlot",
                        "re-bootstrap");
            }
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).createSlot(true).build().start()) {
                // The lease row exists now (the first relay ran): a missing slot was dropped, not never made.
                await().atMost(WAIT).until(() -> r.lastFailure().isPresent());
                assertThat(WalSlot.status(db.dataSource(), slot)).isEmpty();
            }
            db.execute("DELETE FROM eventsync_lease");
            try (WalRelay r = relay(db, db.dataSource(), slot, publisher).createSlot(true).build().start()) {
                await().atMost(WAIT).until(r::isStreaming);
                Position p = commit(db, Capture.MESSAGE, TestEvents.event("shop", "x", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 1);
                assertThat(publisher.confirmed.get(0).getPosition()).isEqualTo(p.value());
            }
        }
    }

    @Test
    void aMissingPublicationIsAClearError() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("nopub", false);
            db.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            try (WalRelay r = relay(db, db.dataSource(), slot, new RecordingPublisher()).build().start()) {
                // pgoutput looks the publication up at the first change it decodes, of any table (the relay's
                // own lease renewals are changes too), so the error may come before or after this event
                commit(db, Capture.MESSAGE, TestEvents.event("shop", "x", 1));
                await().atMost(WAIT).until(() -> r.lastFailure().isPresent());
                assertThat(r.lastFailure().orElseThrow().getMessage()).contains("publication " + slot + " does not exist",
                        "WalSlot.create");
            }
        }
    }

    @Test
    void theWalModeIsRefusedWithTheReasonWhereLogicalReplicationIsOff() throws Exception {
        // The shared cluster runs with wal_level=replica (read only here: SHOW).
        try (HikariDataSource shared = TestDatabase.pool(TestDatabase.PG_URL + "?user=postgres", 1)) {
            assertThatThrownBy(() -> WalSlot.requireLogical(shared)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("wal_level = logical").hasMessageContaining("relay.mode: query");
        }
        try (TestDatabase pg = TestDatabase.create(TestDatabase.Kind.POSTGRES); Connection c = pg.dataSource().getConnection()) {
            // PostgreSQL takes logical messages at any wal_level; below logical no slot could ever decode them.
            assertThatThrownBy(() -> WalOutbox.of("shop", pg.names()).append(c, TestEvents.event("shop", "a", 1)))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("wal_level = replica");
        }
        try (TestDatabase h2 = TestDatabase.create(TestDatabase.Kind.H2)) {
            assertThatThrownBy(() -> WalSlot.requireLogical(h2.dataSource())).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("needs PostgreSQL");
            assertThatThrownBy(() -> WalRelay.builder().dataSource(h2.dataSource()).source("shop")
                    .publisher(new RecordingPublisher()).build()).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("jdbc:postgresql:");
        }
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

    /**
     * The ids written from index {@code from} on, from one snapshot: a sub-list of the live list fails with
     * ConcurrentModificationException when the writer adds to it meanwhile.
     */
    private static List<String> since(List<String> written, int from) {
        List<String> snapshot = List.copyOf(written);
        return new ArrayList<>(snapshot.subList(from, snapshot.size()));
    }
}
