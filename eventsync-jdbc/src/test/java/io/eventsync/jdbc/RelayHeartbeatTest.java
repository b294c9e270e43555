package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.Heartbeats;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The relay's heartbeats: sent to every partition while the outbox is idle, after the rows read before
 * them were confirmed, carrying the last published position and a source time that grows; a failing
 * heartbeat send never holds back events.
 */
class RelayHeartbeatTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static Relay.Builder relay(TestDatabase db, RecordingPublisher publisher, Duration interval) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(1)).heartbeatInterval(interval)
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
    @EnumSource(value = TestDatabase.Kind.class, names = {"H2", "POSTGRES"})
    void heartbeatsFollowTheConfirmedRowsAndKeepComingWhileIdle(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher();
            appendCommitted(db, TestEvents.event("shop", "a", 1), TestEvents.event("shop", "b", 1));
            try (Relay r = relay(db, publisher, Duration.ofMillis(100)).build().start()) {
                await().atMost(WAIT).until(() -> publisher.heartbeats.size() >= 3);
                Envelope first = publisher.heartbeats.get(0);
                assertThat(Heartbeats.isHeartbeat(first)).isTrue();
                assertThat(first.getSource()).isEqualTo("shop");
                // Both rows were read before the first heartbeat's time: they went out before it.
                assertThat(publisher.confirmedBeforeHeartbeat.get(0)).isEqualTo(2);
                Heartbeat beat = Heartbeats.read(publisher.heartbeats.get(2)).orElseThrow();
                assertThat(beat.getPosition()).isEqualTo(publisher.confirmed.get(1).getPosition());
                Instant t0 = Heartbeats.sourceTime(Heartbeats.read(first).orElseThrow());
                assertThat(Heartbeats.sourceTime(beat)).isAfter(t0);
                assertThat(publisher.confirmed).extracting(Envelope::getSubject).containsExactly("a", "b");
            }
        }
    }

    /**
     * The promise a heartbeat makes, checked against the database clock: every event whose commit was
     * over before the heartbeat's time (read after the commit, so the check never blames the relay for a
     * commit that came later) was published before the heartbeat; while a key fails and comes back (the
     * relay then sends only its head row as a probe, and leaves the key out of its reads), heartbeats
     * keep that promise.
     */
    @ParameterizedTest
    @EnumSource(value = TestDatabase.Kind.class, names = {"H2", "POSTGRES"})
    void noHeartbeatVouchesForAnEventCommittedBeforeItThatWasNotPublishedYet(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
            // Every third event of key "flaky" fails its first two sends: the key fails, waits, is probed.
            RecordingPublisher publisher = new RecordingPublisher().rejecting(e -> e.getSubject().equals("flaky")
                    && e.getSequence() % 3 == 0 && attempts.computeIfAbsent(e.getId(), id -> new AtomicInteger())
                            .incrementAndGet() <= 2);
            // The flaky key's sends also confirm late, as a slow broker's do: its probes stay in flight
            // across rounds, and the rounds meanwhile leave the key out of their reads.
            Publisher slowForFlaky = new Publisher() {
                @Override
                public CompletableFuture<Void> send(OutboundEvent event) {
                    CompletableFuture<Void> sent = publisher.send(event);
                    return event.envelope().getSubject().equals("flaky")
                            ? sent.thenCompose(v -> CompletableFuture.runAsync(() -> { },
                                    CompletableFuture.delayedExecutor(30, TimeUnit.MILLISECONDS)))
                            : sent;
                }

                @Override
                public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
                    return publisher.sendToAllPartitions(event);
                }

                @Override
                public int maxEventBytes() {
                    return publisher.maxEventBytes();
                }

                @Override
                public void close() {}
            };
            Map<String, Instant> committedBy = new ConcurrentHashMap<>();
            String[] keys = {"flaky", "a", "b"};
            int events = 120;
            try (Relay r = relay(db, publisher, Duration.ofMillis(10)).publisher(slowForFlaky)
                    .retryBackoff(Duration.ofMillis(5), Duration.ofMillis(40)).build().start()) {
                for (int i = 0; i < events; i++) {
                    String key = keys[i % keys.length];
                    Envelope e = TestEvents.event("shop", key, i / keys.length + 1);
                    appendCommitted(db, e);
                    committedBy.put(e.getId(), now(db)); // after the commit: its commit was over by then
                }
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == events && db.count("outbox") == 0);
                int beatsAtEnd = publisher.heartbeats.size();
                await().atMost(WAIT).until(() -> publisher.heartbeats.size() > beatsAtEnd);
            }
            List<String> broken = new ArrayList<>();
            for (int h = 0; h < publisher.heartbeats.size(); h++) {
                Instant time = Heartbeats.sourceTime(Heartbeats.read(publisher.heartbeats.get(h)).orElseThrow());
                Set<String> published = new HashSet<>();
                publisher.confirmed.subList(0, publisher.confirmedBeforeHeartbeat.get(h))
                        .forEach(e -> published.add(e.getId()));
                int beat = h;
                committedBy.forEach((id, committed) -> {
                    if (committed.isBefore(time) && !published.contains(id)) {
                        broken.add("heartbeat " + beat + " at " + time + " before event " + id + " committed by " + committed);
                    }
                });
            }
            assertThat(broken).as("events a heartbeat vouched for that were not published yet").isEmpty();
            assertThat(attempts).isNotEmpty(); // the flaky key did fail
        }
    }

    private static Instant now(TestDatabase db) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            Dialect d = Dialect.of(c);
            try (PreparedStatement ps = c.prepareStatement(d.selectNow()); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return d.instant(rs, 1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TestDatabase.Kind.class, names = {"H2"})
    void failingHeartbeatsNeverHoldBackEvents(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher().failingHeartbeats(true);
            try (Relay r = relay(db, publisher, Duration.ofMillis(50)).build().start()) {
                appendCommitted(db, TestEvents.event("shop", "a", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 1);
                appendCommitted(db, TestEvents.event("shop", "b", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 2 && db.count("outbox") == 0);
                assertThat(r.lastFailure()).isEmpty();
                publisher.failingHeartbeats(false);
                await().atMost(WAIT).until(() -> !publisher.heartbeats.isEmpty());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = TestDatabase.Kind.class, names = {"H2"})
    void aZeroIntervalSendsNoHeartbeat(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher();
            try (Relay r = relay(db, publisher, Duration.ZERO).build().start()) {
                appendCommitted(db, TestEvents.event("shop", "a", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 1 && db.count("outbox") == 0);
                appendCommitted(db, TestEvents.event("shop", "b", 1));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 2 && db.count("outbox") == 0);
                assertThat(publisher.heartbeats).isEmpty();
            }
        }
    }
}
