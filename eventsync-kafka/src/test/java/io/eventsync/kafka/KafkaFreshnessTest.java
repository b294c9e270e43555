package io.eventsync.kafka;

import static io.eventsync.kafka.TestEvents.unique;
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
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A relay's heartbeats on a Kafka topic with three partitions reach every partition (one record per
 * partition), so the copy's freshness covers all of them; it rises while the relay is stopped and
 * falls back when it runs again. H2 outbox, real KRaft broker.
 */
class KafkaFreshnessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Test
    void heartbeatsReachEveryPartitionAndFreshnessFollowsTheRelay() throws Exception {
        String topic = unique("fresh");
        AtomicInteger applied = new AtomicInteger();
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.H2);
             KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                     .partitions(3).build();
             Publisher publisher = transport.publisher(topic);
             Dispatcher dispatcher = Dispatcher.builder(unique("copy"))
                     .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                         applied.incrementAndGet();
                         return Outcome.applied();
                     }, HandlerOptions.defaults()).build())
                     .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                     .meterRegistry(new SimpleMeterRegistry()).build();
             Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, unique("copy")), dispatcher)) {
            Relay relay = relay(db, publisher).start();
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                Outbox.of("shop", db.names()).append(c, Events.create("shop", "a", 1, StringValue.of("a")),
                        Events.create("shop", "b", 1, StringValue.of("b")), Events.create("shop", "c", 1, StringValue.of("c")));
                c.commit();
            }
            await().atMost(WAIT).until(() -> applied.get() == 3);
            await().atMost(WAIT).until(() -> partitions(dispatcher) == 3);
            CopyFreshness running = dispatcher.freshness().get("shop");
            System.out.printf("kafka, 3 partitions: freshness while idle %d ms (heartbeat interval %d ms)%n",
                    running.freshness().toMillis(), INTERVAL.toMillis());

            relay.close();
            await().atMost(WAIT).until(() -> dispatcher.freshness().get("shop").freshness()
                    .compareTo(INTERVAL.multipliedBy(2)) > 0);
            Instant stopped = dispatcher.freshness().get("shop").sourceTime();
            Duration stale = dispatcher.freshness().get("shop").freshness();

            try (Relay again = relay(db, publisher).start()) {
                await().atMost(WAIT).until(() -> dispatcher.freshness().get("shop").sourceTime().isAfter(stopped));
                assertThat(dispatcher.freshness().get("shop").freshness()).isLessThan(stale);
            }
            assertThat(applied.get()).isEqualTo(3);
        }
    }

    private static int partitions(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get("shop");
        return f == null ? 0 : f.partitions();
    }

    private static Relay relay(TestDatabase db, Publisher publisher) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(2)).heartbeatInterval(INTERVAL)
                .meterRegistry(new SimpleMeterRegistry()).build();
    }
}
