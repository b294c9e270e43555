package io.eventsync.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nats.client.JetStreamManagement;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A relay's heartbeats through a JetStream stream (one ordered sequence per topic, so one partition)
 * give the copy its freshness: present while the relay runs, rising while it is stopped, falling back
 * once a new relay runs. PostgreSQL outbox and inbox (JdbcApplyScope), server on 127.0.0.1:4222.
 */
class NatsFreshnessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final String SOURCE = "shop";
    private final String topic = "test.nats-fresh-" + TestEvents.suffix();
    private NatsTransport transport;

    @AfterEach
    void cleanUp() throws Exception {
        if (transport == null) {
            return;
        }
        JetStreamManagement jsm = transport.connection().jetStreamManagement();
        String stream = transport.streamName(topic);
        if (jsm.getStreamNames().contains(stream)) {
            jsm.deleteStream(stream);
        }
        transport.close();
    }

    @Test
    void freshnessRisesWhileTheRelayIsStoppedAndFallsBackWhenItResumes() throws Exception {
        transport = NatsTransport.builder().server("nats://127.0.0.1:4222").build();
        String group = TestEvents.unique("fresh-copy");
        AtomicInteger applied = new AtomicInteger();
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES);
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).schema(db.names()).build())
                     .build();
             Publisher publisher = transport.publisher(topic);
             Dispatcher dispatcher = Dispatcher.builder(group)
                     .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                         applied.incrementAndGet();
                         return Outcome.applied();
                     }, HandlerOptions.defaults()).build())
                     .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                     .codec(EnvelopeCodec.defaults()).applyScope(scope)
                     .meterRegistry(new SimpleMeterRegistry()).build();
             Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher)) {
            Relay relay = relay(db, publisher).start();
            try {
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of(SOURCE, db.names()).append(c, Events.create(SOURCE, "a", 1, StringValue.of("a")),
                            Events.create(SOURCE, "b", 1, StringValue.of("b")),
                            Events.create(SOURCE, "c", 1, StringValue.of("c")));
                    c.commit();
                }
                await().atMost(WAIT).until(() -> db.count("inbox") == 3);

                // Running: heartbeats arrive (without them this wait times out), one partition per stream.
                Instant first = await().atMost(WAIT).until(() -> sourceTime(dispatcher), t -> t != null);
                await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(first));
                CopyFreshness running = dispatcher.freshness().get(SOURCE);
                assertThat(running.partitions()).isEqualTo(1);
                System.out.printf("nats: freshness while idle %d ms (heartbeat interval %d ms)%n",
                        running.freshness().toMillis(), INTERVAL.toMillis());
            } finally {
                relay.close();
            }

            // Stopped: no heartbeat, so freshness rises past two intervals.
            await().atMost(WAIT).until(() -> dispatcher.freshness().get(SOURCE).freshness()
                    .compareTo(INTERVAL.multipliedBy(2)) > 0);
            Instant stoppedAt = sourceTime(dispatcher);
            Duration stale = dispatcher.freshness().get(SOURCE).freshness();
            System.out.printf("nats: freshness while stopped %d ms%n", stale.toMillis());

            // Resumed: a new relay's heartbeats bring it back below what it was while stopped.
            try (Relay again = relay(db, publisher).start()) {
                await().atMost(WAIT).until(() -> {
                    CopyFreshness f = dispatcher.freshness().get(SOURCE);
                    return f.sourceTime().isAfter(stoppedAt) && f.freshness().compareTo(stale) < 0;
                });
                assertThat(dispatcher.freshness().get(SOURCE).partitions()).isEqualTo(1);
            }
            // Heartbeats are not events: they take no inbox row and reach no handler.
            assertThat(db.count("inbox")).isEqualTo(3);
            assertThat(applied.get()).isEqualTo(3);
        }
    }

    private static Relay relay(TestDatabase db, Publisher publisher) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source(SOURCE).publisher(publisher)
                .leaseDuration(Duration.ofSeconds(2)).heartbeatInterval(INTERVAL)
                .meterRegistry(new SimpleMeterRegistry()).build();
    }

    private static Instant sourceTime(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get(SOURCE);
        return f == null ? null : f.sourceTime();
    }
}
