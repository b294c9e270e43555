package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RelayTest {

    private static Relay.Builder relay(TestDatabase db, javax.sql.DataSource ds, RecordingPublisher publisher) {
        return Relay.builder().dataSource(ds).names(db.names()).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(1)).retryBackoff(Duration.ofMillis(20), Duration.ofMillis(500))
                .meterRegistry(new SimpleMeterRegistry());
    }

    private static void appendCommitted(TestDatabase db, Envelope... events) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Outbox.of("shop", db.names()).append(c, events);
            c.commit();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void relayPublishesEveryRowAndDeletesOnlyConfirmedOnes(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher().rejecting(e -> e.getSubject().equals("refused"));
            appendCommitted(db, TestEvents.event("shop", "a", 1), TestEvents.event("shop", "refused", 1),
                    TestEvents.event("shop", "b", 1), TestEvents.event("shop", "a", 2));
            SimpleMeterRegistry metrics = new SimpleMeterRegistry();
            try (Relay r = relay(db, db.dataSource(), publisher).meterRegistry(metrics).build().start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 1);
                assertThat(publisher.confirmed).extracting(Envelope::getSubject).containsExactly("a", "b", "a");
                assertThat(publisher.confirmed).allMatch(e -> e.getPosition() > 0);
                assertThat(publisher.confirmed.get(0).getPosition()).isLessThan(publisher.confirmed.get(2).getPosition());
                // The refused event stays until the transport takes it, then goes too.
                publisher.rejecting(e -> false);
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 0);
                assertThat(publisher.confirmed).extracting(Envelope::getSubject).containsExactly("a", "b", "a", "refused");
                await().atMost(Duration.ofSeconds(5)).until(() ->
                        metrics.get("eventsync.relay.published").tag("outbox", "shop").counter().count() == 4.0);
            }
        }
    }

    /**
     * A key's later event must not leave while an earlier one of the same key fails: consumers would see
     * it before its predecessor (and again after it). Other keys flow on.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void laterEventOfAKeyWaitsWhileAnEarlierOneOfTheKeyFails(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher()
                    .rejecting(e -> e.getSubject().equals("k") && e.getSequence() == 1);
            appendCommitted(db, TestEvents.event("shop", "k", 1), TestEvents.event("shop", "k", 2),
                    TestEvents.event("shop", "other", 1));
            try (Relay r = relay(db, db.dataSource(), publisher).build().start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 2);
                assertThat(publisher.confirmed).extracting(Envelope::getSubject).containsExactly("other");
                publisher.rejecting(e -> false);
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 0);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("other#1", "k#1", "k#2");
            }
        }
    }

    /**
     * The late-commit case: a transaction holding a lower outbox id commits after a higher id was
     * already relayed. The relay must still deliver it, and a subject's events leave in commit order.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void rowThatCommitsLateWithALowerIdIsNeverSkipped(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher();
            Outbox outbox = Outbox.of("shop", db.names());
            try (Relay r = relay(db, db.dataSource(), publisher).build().start();
                 Connection slow = db.dataSource().getConnection();
                 Connection fast = db.dataSource().getConnection()) {
                slow.setAutoCommit(false);
                fast.setAutoCommit(false);
                Envelope late = TestEvents.event("shop", "s", 2);
                Envelope early = TestEvents.event("shop", "s", 1);
                long lowId = outbox.append(slow, late).value();
                long highId = outbox.append(fast, early, TestEvents.event("shop", "other", 1)).value();
                assertThat(lowId).isLessThan(highId);
                fast.commit();
                await().atMost(Duration.ofSeconds(20)).until(() -> publisher.confirmed.size() == 2);

                slow.commit();
                await().atMost(Duration.ofSeconds(20)).until(() -> publisher.confirmed.size() == 3);
                assertThat(publisher.confirmed.stream().filter(e -> e.getSubject().equals("s")).map(Envelope::getId))
                        .containsExactly(early.getId(), late.getId());
                assertThat(publisher.confirmed.get(2).getPosition()).isEqualTo(lowId);
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 0);
            }
        }
    }

    /**
     * Two subjects share a partition key; sequences are numbered per subject, so they say nothing about
     * the order across subjects. Committed one after the other, they must leave in that order.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void eventsSharingAPartitionKeyLeaveInCommitOrderWhateverTheirSequences(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher();
            Envelope customer = TestEvents.event("shop", "customer-7", 12).toBuilder().setPartitionKey("customer-7").build();
            Envelope order = TestEvents.event("shop", "order-1", 1).toBuilder().setPartitionKey("customer-7").build();
            appendCommitted(db, customer);
            appendCommitted(db, order);
            try (Relay r = relay(db, db.dataSource(), publisher).build().start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 0);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("customer-7#12", "order-1#1");
            }
        }
    }

    /**
     * A whole batch belongs to one key whose events the transport refuses: the relay reads past them,
     * every other key flows, and the failing key's events stay in order until the transport takes them.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void aFullBatchOfOneFailingKeyDoesNotStopOtherKeys(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher().rejecting(e -> e.getSubject().equals("hot"));
            Envelope[] hot = new Envelope[30];
            for (int i = 0; i < hot.length; i++) {
                hot[i] = TestEvents.event("shop", "hot", i + 1);
            }
            appendCommitted(db, hot);
            appendCommitted(db, TestEvents.event("shop", "a", 1), TestEvents.event("shop", "b", 1));
            appendCommitted(db, TestEvents.event("shop", "a", 2), TestEvents.event("shop", "c", 1));
            try (Relay r = relay(db, db.dataSource(), publisher).batchSize(10).build().start()) {
                await().atMost(Duration.ofSeconds(20)).until(() -> publisher.confirmed.size() == 4);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("a#1", "b#1", "a#2", "c#1");
                // Confirmed rows are deleted right after the confirmation: wait for it, then only "hot" is left.
                await().atMost(Duration.ofSeconds(20)).until(() -> db.count("outbox") == 30);
                assertThat(r.lastFailure()).get().extracting(Throwable::getMessage).asString().contains("hot");

                appendCommitted(db, TestEvents.event("shop", "d", 1));
                await().atMost(Duration.ofSeconds(20)).until(() -> publisher.confirmed.size() == 5);

                publisher.rejecting(e -> false);
                await().atMost(Duration.ofSeconds(30)).until(() -> db.count("outbox") == 0);
                assertThat(publisher.confirmed.stream().filter(e -> e.getSubject().equals("hot")).map(Envelope::getSequence))
                        .containsExactly(java.util.stream.LongStream.rangeClosed(1, 30).boxed().toArray(Long[]::new));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void secondRelayTakesOverWhenTheLeaderDiesAndNothingIsLostOrReordered(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher();
            HikariDataSource poolA = db.newPool(4);
            HikariDataSource poolB = db.newPool(4);
            Relay a = relay(db, poolA, publisher).owner("relay-a").batchSize(20).build().start();
            await().atMost(Duration.ofSeconds(10)).until(a::isLeader);
            Relay b = relay(db, poolB, publisher).owner("relay-b").batchSize(20).build().start();

            int subjects = 8;
            int perSubject = 100;
            AtomicBoolean writing = new AtomicBoolean(true);
            List<String> written = new ArrayList<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int seq = 1; seq <= perSubject; seq++) {
                        Envelope[] batch = new Envelope[subjects];
                        for (int s = 0; s < subjects; s++) {
                            batch[s] = TestEvents.event("shop", "subject-" + s, seq);
                            written.add(batch[s].getId());
                        }
                        appendCommitted(db, batch);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    writing.set(false);
                }
            }, "test-writer");
            writer.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> publisher.confirmed.size() > 100);
            poolA.close(); // the leader's database connections die mid-stream
            await().atMost(Duration.ofSeconds(30)).until(b::isLeader);
            writer.join(60_000);
            await().atMost(Duration.ofSeconds(60)).until(() -> db.count("outbox") == 0);
            a.close();
            b.close();
            poolB.close();

            Map<String, Envelope> firstDelivery = new LinkedHashMap<>();
            for (Envelope e : publisher.confirmed) {
                firstDelivery.putIfAbsent(e.getId(), e);
            }
            assertThat(firstDelivery.keySet()).containsExactlyInAnyOrderElementsOf(written);
            Map<String, Long> lastSeq = new HashMap<>();
            for (Envelope e : firstDelivery.values()) {
                Long previous = lastSeq.put(e.getSubject(), e.getSequence());
                assertThat(e.getSequence()).as(e.getSubject()).isEqualTo(previous == null ? 1 : previous + 1);
            }
            assertThat(b.epoch()).isGreaterThan(a.epoch());
        }
    }
}
