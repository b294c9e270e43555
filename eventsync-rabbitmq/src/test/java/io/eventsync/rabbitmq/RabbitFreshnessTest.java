package io.eventsync.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A relay's heartbeats on a RabbitMQ topic with three partition queues reach every queue, so the copy's
 * freshness covers all three; it rises while the relay is stopped and falls back once a new relay runs.
 * H2 outbox, broker on 127.0.0.1:5672.
 */
class RabbitFreshnessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final String SOURCE = "shop";
    private final RabbitCleanup cleanup = new RabbitCleanup();
    private RabbitTransport transport;

    @AfterEach
    void cleanUp() throws Exception {
        if (transport != null) {
            transport.close();
        }
        cleanup.deleteAll();
    }

    @Test
    void heartbeatsReachEveryPartitionAndFreshnessFollowsTheRelay() throws Exception {
        String topic = "test.rabbit-fresh-" + TestEvents.suffix();
        String group = TestEvents.unique("fresh-copy");
        transport = RabbitTransport.builder().partitions(3).build();
        SubscriptionSpec spec = SubscriptionSpec.fanout(topic, group);
        cleanup.topic(transport, topic);
        cleanup.group(transport, spec);
        AtomicInteger applied = new AtomicInteger();
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.H2);
             Publisher publisher = transport.publisher(topic);
             Dispatcher dispatcher = Dispatcher.builder(group)
                     .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                         applied.incrementAndGet();
                         return Outcome.applied();
                     }, HandlerOptions.defaults()).build())
                     .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                     .meterRegistry(new SimpleMeterRegistry()).build();
             Subscription ignored = transport.subscribe(spec, dispatcher)) {
            Relay relay = relay(db, publisher).start();
            try {
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of(SOURCE, db.names()).append(c, Events.create(SOURCE, "a", 1, StringValue.of("a")),
                            Events.create(SOURCE, "b", 1, StringValue.of("b")),
                            Events.create(SOURCE, "c", 1, StringValue.of("c")),
                            Events.create(SOURCE, "d", 1, StringValue.of("d")));
                    c.commit();
                }
                await().atMost(WAIT).until(() -> applied.get() == 4);

                // Running: every partition queue got a heartbeat (without heartbeats this wait times out).
                await().atMost(WAIT).until(() -> partitions(dispatcher) == 3);
                CopyFreshness running = dispatcher.freshness().get(SOURCE);
                assertThat(running.partitions()).isEqualTo(3);
                System.out.printf("rabbitmq, 3 partitions: freshness while idle %d ms (heartbeat interval %d ms)%n",
                        running.freshness().toMillis(), INTERVAL.toMillis());
            } finally {
                relay.close();
            }

            // Stopped: no heartbeat, so freshness rises past two intervals.
            await().atMost(WAIT).until(() -> dispatcher.freshness().get(SOURCE).freshness()
                    .compareTo(INTERVAL.multipliedBy(2)) > 0);
            Instant stoppedAt = dispatcher.freshness().get(SOURCE).sourceTime();
            Duration stale = dispatcher.freshness().get(SOURCE).freshness();
            System.out.printf("rabbitmq: freshness while stopped %d ms%n", stale.toMillis());

            // Resumed: the oldest partition's heartbeat is newer than before, and freshness falls back.
            try (Relay again = relay(db, publisher).start()) {
                await().atMost(WAIT).until(() -> {
                    CopyFreshness f = dispatcher.freshness().get(SOURCE);
                    return f.sourceTime().isAfter(stoppedAt) && f.freshness().compareTo(stale) < 0;
                });
                assertThat(dispatcher.freshness().get(SOURCE).partitions()).isEqualTo(3);
            }
            assertThat(applied.get()).isEqualTo(4); // heartbeats reach no handler
        }
    }

    private static int partitions(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get(SOURCE);
        return f == null ? 0 : f.partitions();
    }

    private static Relay relay(TestDatabase db, Publisher publisher) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source(SOURCE).publisher(publisher)
                .leaseDuration(Duration.ofSeconds(2)).heartbeatInterval(INTERVAL)
                .meterRegistry(new SimpleMeterRegistry()).build();
    }
}
