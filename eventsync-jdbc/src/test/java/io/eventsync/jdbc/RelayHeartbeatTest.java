package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.Heartbeats;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
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
