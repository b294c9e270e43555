package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.internal.Fence;
import io.eventsync.jdbc.internal.FencedPublisher;
import io.eventsync.jdbc.internal.Lease;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class EmbeddedLogTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private static EmbeddedLog.Builder log(TestDatabase db) {
        return EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names()).leaseDuration(Duration.ofSeconds(2));
    }

    private static OutboundEvent event(String subject, long seq) {
        Envelope e = TestEvents.event("shop", subject, seq);
        return new OutboundEvent(e, e.toByteArray());
    }

    private static List<Long> offsetsIn(TestDatabase db, String topic) throws Exception {
        String table = db.kind() == TestDatabase.Kind.MARIADB
                ? "`" + db.names().schema() + "`.`eventsync_log`" : "\"" + db.names().schema() + "\".\"eventsync_log\"";
        List<Long> offsets = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT log_offset FROM " + table + " WHERE topic = '" + topic + "' ORDER BY log_offset")) {
            while (rs.next()) {
                offsets.add(rs.getLong(1));
            }
        }
        return offsets;
    }

    /** Records deliveries, acking each at once. */
    static final class Recorder {
        final List<Envelope> events = new CopyOnWriteArrayList<>();
        final List<Long> offsets = new CopyOnWriteArrayList<>();

        void onDelivery(Delivery d) {
            try {
                events.add(Envelope.parseFrom(d.bytes()));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            offsets.add(d.offset());
            d.ack();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void concurrentPublishersGetGaplessOffsetsAndKeepTheirOrder(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).batchSize(50).build()) {
            Publisher p1 = log.publisher("orders");
            Publisher p2 = log.publisher("orders");
            List<CompletableFuture<Void>> sends = new ArrayList<>();
            Thread other = new Thread(() -> {
                for (int i = 1; i <= 300; i++) {
                    sends.add(p2.send(event("two", i)));
                }
            });
            synchronized (sends) {
                other.start();
            }
            List<CompletableFuture<Void>> mine = new ArrayList<>();
            for (int i = 1; i <= 300; i++) {
                mine.add(p1.send(event("one", i)));
            }
            other.join();
            CompletableFuture.allOf(mine.toArray(CompletableFuture[]::new)).get();
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get();

            assertThat(offsetsIn(db, "orders")).containsExactlyElementsOf(LongStream.range(0, 600).boxed().toList());
            Recorder r = new Recorder();
            try (Subscription s = log.subscribe(SubscriptionSpec.fanout("orders", "reader"), r::onDelivery)) {
                await().atMost(DEADLINE).until(() -> r.events.size() == 600);
            }
            for (String subject : List.of("one", "two")) {
                assertThat(r.events.stream().filter(e -> e.getSubject().equals(subject)).map(Envelope::getSequence))
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, 300).boxed().toList());
            }
        }
    }

    /**
     * Events that each fit, appended together, stay under a server's packet limit (MariaDB's
     * max_allowed_packet is 16 MiB by default): 24 events of 900 KB make one append batch of about 21 MB.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void largeEventsAppendedTogetherFitTheServersPacketLimit(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).batchSize(50).build()) {
            Publisher p = log.publisher("large");
            List<CompletableFuture<Void>> sends = new ArrayList<>();
            for (int i = 1; i <= 24; i++) {
                Envelope e = TestEvents.event("shop", "big", i).toBuilder().setPayload(com.google.protobuf.Any.pack(
                        com.google.protobuf.StringValue.of("x".repeat(900_000)))).build();
                sends.add(p.send(new OutboundEvent(e, e.toByteArray())));
            }
            CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(120, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(offsetsIn(db, "large")).containsExactlyElementsOf(LongStream.range(0, 24).boxed().toList());
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void everyGroupGetsEveryEventAndKeepsItsOffsetInItsOwnDatabase(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind);
             TestDatabase consumerDb = TestDatabase.create(TestDatabase.Kind.H2);
             EmbeddedLog log = log(db).build()) {
            Recorder billing = new Recorder();
            Recorder shipping = new Recorder();
            Offsets consumerOffsets = Offsets.in(consumerDb.dataSource(), consumerDb.names());
            Subscription s1 = log.subscribe(SubscriptionSpec.fanout("orders", "billing"), billing::onDelivery);
            Subscription s2 = log.subscribe(SubscriptionSpec.fanout("orders", "shipping"), shipping::onDelivery, consumerOffsets);
            try (Publisher p = log.publisher("orders")) {
                for (int i = 1; i <= 50; i++) {
                    p.send(event("k" + (i % 5), i));
                }
            }
            await().atMost(DEADLINE).until(() -> billing.events.size() == 50 && shipping.events.size() == 50);
            assertThat(billing.offsets).containsExactlyElementsOf(LongStream.range(0, 50).boxed().toList());
            assertThat(shipping.offsets).containsExactlyElementsOf(LongStream.range(0, 50).boxed().toList());
            s1.close();
            s2.close();
            assertThat(consumerOffsets.load("shipping", "orders", "0")).isEqualTo(50);
            assertThat(consumerDb.count("offsets")).isEqualTo(1);

            // A restarted group resumes after what it acknowledged.
            try (Publisher p = log.publisher("orders")) {
                p.send(event("k1", 51)).get();
            }
            Recorder again = new Recorder();
            try (Subscription s3 = log.subscribe(SubscriptionSpec.fanout("orders", "shipping"), again::onDelivery, consumerOffsets)) {
                await().atMost(DEADLINE).until(() -> again.offsets.contains(50L));
                assertThat(again.offsets).containsExactly(50L);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void competingConsumersOfAQueueGroupShareTheEventsWithoutGapsOrDuplicates(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            Recorder first = new Recorder();
            Recorder second = new Recorder();
            var s1 = (io.eventsync.jdbc.internal.LogSubscription) log.subscribe(SubscriptionSpec.queue("jobs", "workers"), first::onDelivery);
            await().atMost(DEADLINE).until(s1::active);
            var s2 = (io.eventsync.jdbc.internal.LogSubscription) log.subscribe(SubscriptionSpec.queue("jobs", "workers"), second::onDelivery);
            try (Publisher p = log.publisher("jobs")) {
                for (int i = 1; i <= 40; i++) {
                    p.send(event("job", i));
                }
            }
            await().atMost(DEADLINE).until(() -> first.events.size() == 40);
            assertThat(second.events).isEmpty();
            assertThat(s2.active()).isFalse();

            s1.close(); // the active consumer leaves: the other takes over from the stored offset
            try (Publisher p = log.publisher("jobs")) {
                for (int i = 41; i <= 60; i++) {
                    p.send(event("job", i));
                }
            }
            await().atMost(DEADLINE).until(() -> second.events.size() == 20);
            s2.close();
            List<Long> all = new ArrayList<>(first.offsets);
            all.addAll(second.offsets);
            assertThat(all).containsExactlyElementsOf(LongStream.range(0, 60).boxed().toList());
        }
    }

    /**
     * A consumer whose handler blocks (as it does while its dispatcher is full) for longer than the lease
     * keeps the group's lease: a keeper thread renews it, so the standby does not take over a live
     * consumer and deliver the same events a second time.
     */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void aConsumerBlockedInItsHandlerLongerThanTheLeaseKeepsItsGroupLease(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            CompletableFuture<Void> unblock = new CompletableFuture<>();
            Recorder first = new Recorder();
            Recorder second = new Recorder();
            var s1 = (io.eventsync.jdbc.internal.LogSubscription) log.subscribe(SubscriptionSpec.queue("slow", "workers"), d -> {
                unblock.join(); // a full dispatcher: the delivery thread waits
                first.onDelivery(d);
            });
            await().atMost(DEADLINE).until(s1::active);
            var s2 = (io.eventsync.jdbc.internal.LogSubscription) log.subscribe(SubscriptionSpec.queue("slow", "workers"), second::onDelivery);
            try (Publisher p = log.publisher("slow")) {
                for (int i = 1; i <= 5; i++) {
                    p.send(event("job", i));
                }
            }
            // Three lease durations (2 s each) with the first consumer stuck in its handler.
            await().during(Duration.ofSeconds(6)).atMost(DEADLINE).until(() -> s1.active() && !s2.active());
            unblock.complete(null);
            await().atMost(DEADLINE).until(() -> first.events.size() == 5);
            assertThat(second.events).isEmpty();
            assertThat(first.offsets).containsExactly(0L, 1L, 2L, 3L, 4L);
            s1.close();
            s2.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void retentionDeletesOnlyEntriesEveryGroupPassedAndOldEnough(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind);
             EmbeddedLog keepAnHour = log(db).retention(Duration.ofHours(1), Duration.ofHours(1)).build();
             EmbeddedLog keepNothingOld = log(db).retention(Duration.ZERO, Duration.ofHours(1)).build()) {
            try (Publisher p = keepAnHour.publisher("orders")) {
                for (int i = 1; i <= 10; i++) {
                    p.send(event("k", i));
                }
            }
            assertThat(keepNothingOld.retain()).as("no group registered yet").isZero();
            Recorder fast = new Recorder();
            List<Long> slow = new CopyOnWriteArrayList<>();
            Subscription s1 = keepAnHour.subscribe(SubscriptionSpec.fanout("orders", "fast"), fast::onDelivery);
            Subscription s2 = keepAnHour.subscribe(SubscriptionSpec.fanout("orders", "slow"), d -> {
                slow.add(d.offset());
                if (d.offset() < 4) {
                    d.ack();
                }
            });
            await().atMost(DEADLINE).until(() -> fast.offsets.size() == 10 && slow.size() == 10);
            s1.close();
            s2.close();

            assertThat(keepAnHour.retain()).as("entries are younger than an hour").isZero();
            assertThat(keepNothingOld.retain()).as("the slow group passed offsets 0..3").isEqualTo(4);
            assertThat(offsetsIn(db, "orders")).containsExactlyElementsOf(LongStream.range(4, 10).boxed().toList());
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void staleLeaderCannotAppendToTheLogOrKeepItsFenceAfterLosingTheLease(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build();
             Connection c = db.dataSource().getConnection()) {
            Tables tables = Tables.resolve(c, db.names());
            Lease stale = new Lease(tables, "relay:shop", "stale", Duration.ofMillis(200));
            Lease successor = new Lease(tables, "relay:shop", "successor", Duration.ofSeconds(30));
            long staleEpoch = stale.tryAcquire(c).orElseThrow();
            assertThat(successor.tryAcquire(c)).isEmpty();

            FencedPublisher publisher = (FencedPublisher) log.publisher("orders");
            Fence staleFence = conn -> stale.fence(conn, staleEpoch);
            publisher.fence(staleFence);
            publisher.send(event("k", 1)).get();

            await().atMost(DEADLINE).until(() -> successor.tryAcquire(c).isPresent());
            OptionalLong successorEpoch = successor.tryAcquire(c);
            assertThat(successorEpoch.getAsLong()).isEqualTo(staleEpoch + 1);
            assertThatThrownBy(() -> publisher.send(event("k", 2)).get())
                    .isInstanceOf(ExecutionException.class).hasMessageContaining("lost its lease");
            assertThat(offsetsIn(db, "orders")).containsExactly(0L);
            assertThat(stale.tryAcquire(c)).as("the lease is held by the successor").isEmpty();
            c.setAutoCommit(false);
            assertThat(stale.fence(c, staleEpoch)).isFalse();
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void aSecondRelayCannotShareALogPublisherThatAnotherRelayFences(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            FencedPublisher publisher = (FencedPublisher) log.publisher("orders");
            Fence first = conn -> true;
            publisher.fence(first);
            publisher.fence(first); // the same relay binding again is fine
            assertThatThrownBy(() -> publisher.fence(conn -> true))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("already fenced by another relay")
                    .hasMessageContaining("orders");
        }
    }

    /** A relay restarted on the same log publisher (a closed relay gave its fence back) relays again. */
    @ParameterizedTest
    @EnumSource(value = TestDatabase.Kind.class, names = {"H2", "POSTGRES"})
    void aRelayRestartedOnTheSameLogPublisherRelaysAgain(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            Recorder r = new Recorder();
            Publisher publisher = log.publisher("shop.restart");
            try (Subscription s = log.subscribe(SubscriptionSpec.fanout("shop.restart", "copy"), r::onDelivery)) {
                for (int round = 1; round <= 2; round++) {
                    try (Relay relay = Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop")
                            .publisher(publisher).meterRegistry(new SimpleMeterRegistry())
                            .heartbeatInterval(Duration.ZERO).build().start()) {
                        try (Connection c = db.dataSource().getConnection()) {
                            c.setAutoCommit(false);
                            Outbox.of("shop", db.names()).append(c, TestEvents.event("shop", "o", round));
                            c.commit();
                        }
                        int expected = round;
                        await().atMost(DEADLINE).until(() -> r.events.size() == expected);
                        assertThat(relay.lastFailure()).isEmpty();
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void eventsFlowFromOutboxThroughRelayAndLogWithTheirPositions(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            Recorder r = new Recorder();
            Publisher publisher = log.publisher("shop.events");
            try (Relay relay = Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop")
                    .publisher(publisher).meterRegistry(new SimpleMeterRegistry())
                    .heartbeatInterval(Duration.ZERO) // the recorder counts events; heartbeats: FreshnessOnEmbeddedLogTest
                    .build().start();
                 Subscription s = log.subscribe(SubscriptionSpec.fanout("shop.events", "copy"), r::onDelivery)) {
                List<Long> positions = new ArrayList<>();
                for (int i = 1; i <= 20; i++) {
                    try (Connection c = db.dataSource().getConnection()) {
                        c.setAutoCommit(false);
                        positions.add(Outbox.of("shop", db.names()).append(c, TestEvents.event("shop", "o" + (i % 3), i)).value());
                        c.commit();
                    }
                }
                await().atMost(DEADLINE).until(() -> r.events.size() == 20);
                assertThat(r.events).extracting(Envelope::getPosition).containsExactlyElementsOf(positions);
                await().atMost(DEADLINE).until(() -> db.count("outbox") == 0);
            }
        }
    }

    /** A writer other than eventsync's may leave an entry's payload empty: named on the delivery, key kept. */
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void anEntryWithAnEmptyPayloadIsHandedOverWithItsDefectAndOrigin(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind); EmbeddedLog log = log(db).build()) {
            RawLogWriter writer = new RawLogWriter(db, "raw");
            writer.write(new io.eventsync.transport.RawRecord("good", event("order-1", 1).bytes(), "order-1",
                    io.eventsync.transport.RawRecord.Expect.applied()));
            writer.write(new io.eventsync.transport.RawRecord("empty", new byte[0], "order-1",
                    io.eventsync.transport.RawRecord.Expect.deadLetter("empty")));
            List<Delivery> received = new CopyOnWriteArrayList<>();
            log.subscribe(SubscriptionSpec.fanout("raw", "copy"), d -> {
                received.add(d);
                d.ack();
            });

            await().atMost(DEADLINE).until(() -> received.size() == 2);
            assertThat(received.get(0).defect()).isNull();
            assertThat(received.get(0).transportKey()).isEqualTo("order-1");
            assertThat(received.get(0).origin()).isEqualTo("log topic raw offset 0");
            assertThat(received.get(1).defect()).isEqualTo("the log entry's payload is empty");
            assertThat(received.get(1).transportKey()).isEqualTo("order-1");
            assertThat(received.get(1).origin()).isEqualTo("log topic raw offset 1; event_key 'order-1'");
        }
    }
}
