package io.eventsync.http;

import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The transport contract where it applies to API synchronization: events are published to the
 * source's embedded log (as the relay does) and consumed over HTTP from a {@link FeedServer}; the
 * "broker restart" restarts the feed server on the same port. Queue mode does not apply (the feed
 * is fan-out only) and is replaced by tests of the refusal and of redelivery within a fan-out group.
 */
class HttpTransportContractTest extends TransportContract {
    private static TestDb source;
    private static TestDb copy;
    private static JdbcLogFeedSource log;
    private static FeedServer server;

    /** The databases' kind; {@link HttpTransportContractPostgresTest} runs the suite on PostgreSQL. */
    TestDb.Kind kind() {
        return TestDb.Kind.H2;
    }

    /** One source, copy and server per test class (test classes run one after another), made on first use. */
    private void startSource() {
        if (server == null) {
            source = TestDb.create(kind());
            copy = TestDb.create(kind());
            log = JdbcLogFeedSource.builder(source.dataSource()).build();
            server = startServer(0);
        }
    }

    private static FeedServer startServer(int port) {
        return FeedServer.builder().source(log).allTopics().client("copy", TOKEN).port(port)
                .rateLimit(10_000, 10_000).maxWait(Duration.ofSeconds(5)).build().start();
    }

    @AfterAll
    static void stopSource() {
        if (server != null) {
            server.close();
            log.close();
            source.close();
            copy.close();
            server = null;
        }
    }

    @Override
    protected Transport newTransport() {
        startSource();
        HttpFeedTransport http = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(PositionStore.of(Offsets.in(copy.dataSource())))
                .pollWait(Duration.ofSeconds(2)).backoff(Duration.ofMillis(20), Duration.ofMillis(500)).build();
        return new Transport() {
            @Override
            public String name() {
                return "http";
            }

            @Override
            public Publisher publisher(String topic) {
                return source.log().publisher(topic); // the source side: what the relay appends to
            }

            @Override
            public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
                return http.subscribe(spec, handler);
            }

            @Override
            public void close() {
                http.close();
            }
        };
    }

    @Override
    protected void restartBroker() {
        int port = server.uri().getPort();
        server.close();
        server = startServer(port);
    }

    @Test
    @Override
    public void queueModeDeliversEachEventToExactlyOneOfTwoConsumers() {
        assertThatThrownBy(() -> transport.subscribe(SubscriptionSpec.queue(unique("queue"), unique("g")), d -> { }))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fan-out only");
    }

    @Test
    @Override
    public void unacknowledgedEventsAreRedeliveredToTheNextConsumerAfterACrash() throws Exception {
        String topic = unique("crash");
        String group = unique("g");
        List<OutboundEvent> events = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) {
            events.add(event("key-" + i, 1));
        }
        publishAll(topic, events);

        Ids crashing = new Ids(20);
        Subscription sub = transport.subscribe(SubscriptionSpec.fanout(topic, group), crashing);
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(crashing.seen).hasSize(60));
        sub.close(); // a crash: 40 events were received and never acknowledged

        Ids next = new Ids(Integer.MAX_VALUE);
        transport.subscribe(SubscriptionSpec.fanout(topic, group), next);
        Set<String> unacked = new HashSet<>(idsOf(events));
        unacked.removeAll(crashing.acked);
        assertThat(unacked).hasSize(40);
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(next.seen).containsAll(unacked));
    }

    /** Records event ids; acknowledges only the first {@code ackLimit} deliveries. */
    private static final class Ids implements DeliveryHandler {
        final Set<String> seen = ConcurrentHashMap.newKeySet();
        final Set<String> acked = ConcurrentHashMap.newKeySet();
        private final int ackLimit;

        Ids(int ackLimit) {
            this.ackLimit = ackLimit;
        }

        @Override
        public void onDelivery(Delivery delivery) {
            try {
                String id = Envelope.parseFrom(delivery.bytes()).getId();
                seen.add(id);
                if (acked.size() < ackLimit) {
                    acked.add(id);
                    delivery.ack();
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
