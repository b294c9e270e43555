package io.eventsync.http;

import static io.eventsync.http.Fixtures.CODEC;
import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pulling transport against a real server and H2 databases for the source and the copy. */
class HttpFeedTransportTest {
    private TestDb source;
    private TestDb copy;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private HttpFeedTransport transport;
    private String topic;

    @BeforeEach
    void start() {
        source = TestDb.create(TestDb.Kind.H2);
        copy = TestDb.create(TestDb.Kind.H2);
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        topic = Fixtures.topic();
        server = Fixtures.server(log, topic).build().start();
        transport = transport(server);
    }

    private HttpFeedTransport transport(FeedServer server) {
        return HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(PositionStore.of(Offsets.in(copy.dataSource())))
                .pageSize(7).pollWait(Duration.ofSeconds(5))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(300))
                .build();
    }

    @AfterEach
    void stop() {
        transport.close();
        server.close();
        log.close();
        source.close();
        copy.close();
    }

    @Test
    void subscriberReceivesEveryEventInOrderAndStoresItsPositionInTheCopy() throws Exception {
        List<Envelope> events = Fixtures.appendItems(source, topic, 30);
        Recorder recorder = new Recorder(true);

        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), recorder)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> recorder.offsets.size() == 30);
            await().atMost(Duration.ofSeconds(20)).until(() -> storedPosition("copy") == 30);
        }

        assertThat(recorder.offsets).containsExactlyElementsOf(LongStream.range(0, 30).boxed().toList());
        assertThat(recorder.subjects).containsExactlyElementsOf(events.stream().map(Envelope::getSubject).toList());
    }

    @Test
    void pullerSurvivesTheServerStoppingAndRestartingAndLosesNothing() throws Exception {
        Fixtures.appendItems(source, topic, 20);
        Recorder recorder = new Recorder(true);
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), recorder);
        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.offsets.size() == 20);

        int port = server.uri().getPort();
        server.close();
        Fixtures.appendItems(source, topic, 25); // written while the server is down
        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.offsets.size() == 20); // nothing arrives meanwhile
        server = Fixtures.server(log, topic).port(port).build().start();

        await().atMost(Duration.ofSeconds(30)).until(() -> recorder.offsets.size() == 45);
        assertThat(recorder.offsets).containsExactlyElementsOf(LongStream.range(0, 45).boxed().toList());
        await().atMost(Duration.ofSeconds(20)).until(() -> storedPosition("copy") == 45);
    }

    @Test
    void unacknowledgedEventsAreDeliveredAgainToTheNextSubscriptionOfTheGroup() throws Exception {
        Fixtures.appendItems(source, topic, 10);
        Recorder acking = new Recorder(true);
        Subscription first = transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), delivery -> {
            if (delivery.offset() < 4) {
                acking.onDelivery(delivery); // 0..3 applied and acked; 4.. received but never acked
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> storedPosition("copy") == 4);
        first.close();

        Recorder second = new Recorder(true);
        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), second)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> second.offsets.size() == 6);
        }
        assertThat(second.offsets).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
    }

    @Test
    void anEventTheHandlerRefusesIsOfferedAgainAndNothingIsLost() throws Exception {
        Fixtures.appendItems(source, topic, 8);
        Recorder recorder = new Recorder(true);
        java.util.concurrent.atomic.AtomicBoolean refused = new java.util.concurrent.atomic.AtomicBoolean();

        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), delivery -> {
            if (delivery.offset() == 3 && refused.compareAndSet(false, true)) {
                throw new IllegalStateException("copy database unavailable");
            }
            recorder.onDelivery(delivery);
        });

        await().atMost(Duration.ofSeconds(20)).until(() -> recorder.offsets.size() == 8);
        assertThat(refused).isTrue();
        assertThat(recorder.offsets).containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    }

    @Test
    void eachGroupGetsEveryEvent() throws Exception {
        Fixtures.appendItems(source, topic, 12);
        Recorder a = new Recorder(true);
        Recorder b = new Recorder(true);

        transport.subscribe(SubscriptionSpec.fanout(topic, "copy-a"), a);
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy-b"), b);

        await().atMost(Duration.ofSeconds(20)).until(() -> a.offsets.size() == 12 && b.offsets.size() == 12);
        assertThat(a.offsets).isEqualTo(b.offsets);
    }

    @Test
    void queueModeAndPublishingAreRefusedWithAnExplanation() {
        assertThatThrownBy(() -> transport.subscribe(SubscriptionSpec.queue(topic, "copy"), d -> { }))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fan-out only");
        assertThatThrownBy(() -> transport.publisher(topic))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("outbox");
    }

    private long storedPosition(String group) {
        return PositionStore.of(Offsets.in(copy.dataSource())).load(group, topic);
    }

    /** Records what arrives and acknowledges it at once (deliveries come one by one in offset order). */
    static final class Recorder implements DeliveryHandler {
        final List<Long> offsets = new CopyOnWriteArrayList<>();
        final List<String> subjects = new CopyOnWriteArrayList<>();
        private final boolean ack;

        Recorder(boolean ack) {
            this.ack = ack;
        }

        @Override
        public void onDelivery(Delivery delivery) {
            offsets.add(delivery.offset());
            subjects.add(CODEC.decode(delivery.bytes()).getSubject());
            if (ack) {
                delivery.ack();
            }
        }
    }
}
