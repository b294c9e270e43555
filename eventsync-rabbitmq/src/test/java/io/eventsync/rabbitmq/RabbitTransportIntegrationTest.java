package io.eventsync.rabbitmq;

import static io.eventsync.transport.TestEvents.event;
import static io.eventsync.transport.TestEvents.ids;
import static io.eventsync.transport.TestEvents.sendAll;
import static io.eventsync.transport.TestEvents.sendConfirmed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Recorder;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Runs against the RabbitMQ broker on 127.0.0.1:5672 (guest/guest); no plugin needed. */
class RabbitTransportIntegrationTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final List<RabbitTransport> transports = new ArrayList<>();
    private final RabbitCleanup cleanup = new RabbitCleanup();
    private String topic;

    @BeforeEach
    void names() {
        topic = "test.rabbit-" + TestEvents.suffix();
    }

    @AfterEach
    void cleanUp() throws Exception {
        transports.forEach(RabbitTransport::close);
        cleanup.deleteAll();
    }

    private RabbitTransport transport(RabbitTransport.Builder builder) {
        RabbitTransport transport = builder.build();
        transports.add(transport);
        cleanup.topic(transport, topic);
        return transport;
    }

    private RabbitTransport transport() {
        return transport(RabbitTransport.builder());
    }

    private Subscription subscribe(RabbitTransport transport, SubscriptionSpec spec, DeliveryHandler handler) {
        cleanup.group(transport, spec);
        return transport.subscribe(spec, handler);
    }

    private static List<OutboundEvent> events(int keys, int perKey) {
        return TestEvents.events(keys, 1, perKey);
    }

    @Test
    void publishedEventArrivesWithItsBytes() throws Exception {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        RabbitTransport transport = transport(RabbitTransport.builder().meterRegistry(meters));
        Recorder recorder = Recorder.acking();
        SubscriptionSpec spec = SubscriptionSpec.fanout(topic, "copy");
        subscribe(transport, spec, recorder);
        OutboundEvent sent = event("order-1", 1);
        transport.publisher(topic).send(sent).get();

        await().atMost(DEADLINE).until(() -> recorder.events().size() == 1);
        assertThat(recorder.events().get(0)).isEqualTo(sent.envelope());
        assertThat(recorder.deliveries().get(0).partition()).isEqualTo(transport.queueNames(spec).get(0));
        assertThat(recorder.deliveries().get(0).deliveryCount()).isEqualTo(1);
        assertThat(meters.get("eventsync.transport.sent").tag("result", "ok").counter().count()).isEqualTo(1);
        assertThat(meters.get("eventsync.transport.delivered").tag("group", "copy").counter().count()).isEqualTo(1);
    }

    @Test
    void eventsOfOneKeyArriveInTheOrderSentAcrossPartitions() throws Exception {
        RabbitTransport transport = transport(RabbitTransport.builder().partitions(3));
        Recorder recorder = Recorder.acking();
        subscribe(transport, SubscriptionSpec.fanout(topic, "copy"), recorder);
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(12, 30));

        await().atMost(DEADLINE).until(() -> recorder.events().size() >= sent.size());
        Map<String, List<Long>> byKey = recorder.events().stream().collect(Collectors.groupingBy(
                Envelope::getSubject, Collectors.mapping(Envelope::getSequence, Collectors.toList())));
        assertThat(byKey).hasSize(12);
        byKey.values().forEach(seqs -> assertThat(seqs).isSorted().doesNotHaveDuplicates().hasSize(30));
        Map<String, List<Long>> offsets = recorder.deliveries().stream().collect(Collectors.groupingBy(
                Delivery::partition, Collectors.mapping(Delivery::offset, Collectors.toList())));
        assertThat(offsets).hasSize(3);
        offsets.values().forEach(o -> assertThat(o).isSorted().doesNotHaveDuplicates());
    }

    @Test
    void everyGroupGetsEveryEventInFanOut() throws Exception {
        RabbitTransport transport = transport();
        Recorder billing = Recorder.acking();
        Recorder search = Recorder.acking();
        subscribe(transport, SubscriptionSpec.fanout(topic, "billing"), billing);
        subscribe(transport, SubscriptionSpec.fanout(topic, "search"), search);
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(3, 10));

        await().atMost(DEADLINE).until(() -> billing.events().size() == 30 && search.events().size() == 30);
        assertThat(billing.ids()).containsExactlyInAnyOrderElementsOf(ids(sent));
        assertThat(search.ids()).containsExactlyInAnyOrderElementsOf(ids(sent));
    }

    @Test
    void competingConsumersOfAQueueGroupGetEachEventOnce() throws Exception {
        RabbitTransport one = transport(RabbitTransport.builder().partitions(4));
        RabbitTransport two = transport(RabbitTransport.builder().partitions(4));
        Recorder first = Recorder.acking();
        Recorder second = Recorder.acking();
        subscribe(one, SubscriptionSpec.queue(topic, "workers"), first);
        subscribe(two, SubscriptionSpec.queue(topic, "workers"), second);
        List<OutboundEvent> sent = sendAll(one.publisher(topic), events(20, 10));

        await().atMost(DEADLINE).until(() -> first.events().size() + second.events().size() >= sent.size());
        List<String> all = new ArrayList<>(first.ids());
        all.addAll(second.ids());
        assertThat(all).containsExactlyInAnyOrderElementsOf(ids(sent));
    }

    @Test
    void aStandbyConsumerTakesOverInOrderWhenTheActiveOneCrashes() throws Exception {
        RabbitTransport crashing = transport();
        RabbitTransport standby = transport();
        Recorder lost = Recorder.neverAcking();
        Recorder survivor = Recorder.acking();
        Subscription active = subscribe(crashing, SubscriptionSpec.queue(topic, "workers"), lost);
        subscribe(standby, SubscriptionSpec.queue(topic, "workers"), survivor);
        List<OutboundEvent> sent = sendAll(crashing.publisher(topic), events(1, 20));
        await().atMost(DEADLINE).until(() -> lost.events().size() == sent.size());
        assertThat(survivor.events()).as("single active consumer: the standby gets nothing").isEmpty();

        active.close();
        await().atMost(DEADLINE).until(() -> survivor.events().size() >= sent.size());
        assertThat(survivor.ids()).containsExactlyElementsOf(ids(sent));
        assertThat(survivor.deliveries()).allMatch(d -> d.deliveryCount() >= 2);
    }

    @Test
    void nothingIsLostAcrossAConnectionDrop() throws Exception {
        try (TcpProxy proxy = new TcpProxy("127.0.0.1", 5672)) {
            RabbitTransport transport = transport(RabbitTransport.builder().port(proxy.port())
                    .recoveryInterval(Duration.ofMillis(200)));
            Recorder recorder = Recorder.acking();
            subscribe(transport, SubscriptionSpec.fanout(topic, "copy"), recorder);
            Publisher publisher = transport.publisher(topic);
            List<OutboundEvent> sent = new ArrayList<>(sendAll(publisher, events(4, 25)));

            proxy.dropAll();
            List<OutboundEvent> after = TestEvents.events(4, 26, 50);
            sendConfirmed(publisher, after, DEADLINE);
            sent.addAll(after);

            await().atMost(DEADLINE).until(() -> new HashSet<>(recorder.ids()).containsAll(ids(sent)));
            List<Long> oneToFifty = java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList();
            assertThat(recorder.firstSeenSequencesByKey()).hasSize(4)
                    .allSatisfy((key, seqs) -> assertThat(seqs).isEqualTo(oneToFifty));
        }
    }

    @Test
    void eventsPublishedBeforeAnyGroupExistsReachTheFirstGroup() throws Exception {
        RabbitTransport transport = transport();
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(2, 10));
        Recorder recorder = Recorder.acking();
        subscribe(transport, SubscriptionSpec.queue(topic, "late"), recorder);

        await().atMost(DEADLINE).until(() -> recorder.events().size() >= sent.size());
        assertThat(recorder.ids()).containsExactlyElementsOf(ids(sent));
    }

    /**
     * The relay keeps publishing while the first group subscribes: the events parked before the group's
     * queues were bound must come first, in order, then the newer ones (issue #9 item 5: 333 of 800 came
     * behind newer events of their key).
     */
    @Test
    void eventsParkedBeforeTheFirstGroupArriveAheadOfNewerOnesWhileARelayKeepsPublishing() throws Exception {
        RabbitTransport transport = transport(RabbitTransport.builder().partitions(3));
        Publisher publisher = transport.publisher(topic);
        List<OutboundEvent> events = TestEvents.events(4, 1, 200);
        java.util.concurrent.CountDownLatch someParked = new java.util.concurrent.CountDownLatch(150);
        CompletableFuture<Void> relay = CompletableFuture.runAsync(() -> {
            for (OutboundEvent event : events) { // one after another, as the relay sends a key's rows
                sendConfirmed(publisher, List.of(event), DEADLINE);
                someParked.countDown();
            }
        });
        assertThat(someParked.await(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Recorder recorder = Recorder.acking();
        SubscriptionSpec spec = SubscriptionSpec.fanout(topic, "first");
        subscribe(transport, spec, recorder);
        relay.get(DEADLINE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);

        await().atMost(DEADLINE).until(() -> new HashSet<>(recorder.ids()).containsAll(ids(events)));
        List<Long> oneTo200 = java.util.stream.LongStream.rangeClosed(1, 200).boxed().toList();
        assertThat(recorder.firstSeenSequencesByKey()).hasSize(4)
                .allSatisfy((key, seqs) -> assertThat(seqs).as("sequences of %s in arrival order", key)
                        .isEqualTo(oneTo200));
        Map<String, List<Long>> offsets = recorder.deliveries().stream().collect(Collectors.groupingBy(
                Delivery::partition, Collectors.mapping(Delivery::offset, Collectors.toList())));
        offsets.values().forEach(o -> assertThat(o).as("offsets per partition").isSorted().doesNotHaveDuplicates());
        try (com.rabbitmq.client.Channel admin = transport.publishingConnection().createChannel()) {
            assertThat(admin.queueDeclarePassive(transport.unroutedQueueName(topic)).getMessageCount()).isZero();
        }
        await().atMost(DEADLINE).untilAsserted(() -> assertThat(transport.parkedQueueNames(spec))
                .as("parked queues are deleted once read").noneMatch(q -> queueExists(transport, q)));
    }

    /** A second instance of the group subscribing while the first still reads the parked events waits behind them. */
    @Test
    void aSecondInstanceOfTheGroupReadsTheQueueOnlyAfterTheParkedEvents() throws Exception {
        RabbitTransport one = transport();
        RabbitTransport two = transport();
        List<OutboundEvent> parked = sendAll(one.publisher(topic), events(1, 50));
        Recorder slow = Recorder.neverAcking(); // holds the parked events without acking them
        SubscriptionSpec spec = SubscriptionSpec.queue(topic, "workers");
        Subscription first = subscribe(one, spec, slow);
        await().atMost(DEADLINE).until(() -> slow.events().size() == parked.size());
        Recorder standby = Recorder.acking();
        subscribe(two, spec, standby);
        List<OutboundEvent> newer = sendAll(one.publisher(topic), TestEvents.events(1, 51, 60));

        first.close(); // a crash: the parked events go back to the parked queue, read again first
        List<OutboundEvent> all = new ArrayList<>(parked);
        all.addAll(newer);
        await().atMost(DEADLINE).until(() -> new HashSet<>(standby.ids()).containsAll(ids(all)));
        assertThat(standby.ids()).containsExactlyElementsOf(ids(all));
    }

    /** Anyone can publish to the exchange: what eventsync cannot honour is named, with the value, on the delivery. */
    @Test
    void aMessageWithMalformedPropertiesIsHandedOverWithItsDefectAndOrigin() throws Exception {
        RabbitTransport transport = transport();
        List<Delivery> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        SubscriptionSpec spec = SubscriptionSpec.fanout(topic, "copy");
        subscribe(transport, spec, d -> {
            received.add(d);
            d.ack();
        });
        byte[] body = event("order-1", 1).bytes();
        try (com.rabbitmq.client.Channel raw = transport.publishingConnection().createChannel()) {
            raw.confirmSelect();
            publishRaw(raw, transport.exchangeName(topic), Map.of("eventsync-key", "order-1"), "application/protobuf", body);
            publishRaw(raw, transport.exchangeName(topic), Map.of("eventsync-key", 7), null, body);
            publishRaw(raw, transport.exchangeName(topic), Map.of("eventsync-key", "order-1"), "text/plain; charset=utf-8", body);
            publishRaw(raw, transport.exchangeName(topic), Map.of(), null, new byte[0]);
            raw.waitForConfirmsOrDie(10_000);
        }

        await().atMost(DEADLINE).until(() -> received.size() == 4);
        Delivery good = received.get(0);
        assertThat(good.defect()).isNull();
        assertThat(good.transportKey()).isEqualTo("order-1");
        assertThat(good.origin()).isEqualTo("rabbitmq queue " + transport.queueNames(spec).get(0) + " delivery tag "
                + good.offset() + " (exchange " + transport.exchangeName(topic) + ", routing key 0)");
        Delivery numberKey = received.get(1);
        assertThat(numberKey.defect()).isEqualTo("header eventsync-key is not a UTF-8 string: Integer '7'");
        assertThat(numberKey.transportKey()).isEmpty();
        assertThat(numberKey.origin()).contains("; properties header 'eventsync-key'=Integer '7'");
        assertThat(received.get(2).defect()).isEqualTo("property content-type is 'text/plain; charset=utf-8', not"
                + " application/protobuf: the body is not an eventsync envelope");
        assertThat(received.get(2).transportKey()).isEqualTo("order-1");
        assertThat(received.get(3).defect()).isEqualTo("the message body is empty");
        assertThat(received.get(3).bytes()).isEmpty();
    }

    private static void publishRaw(com.rabbitmq.client.Channel channel, String exchange, Map<String, Object> headers,
                                   String contentType, byte[] body) throws java.io.IOException {
        channel.basicPublish(exchange, "0", false, new com.rabbitmq.client.AMQP.BasicProperties.Builder()
                .contentType(contentType).headers(headers).build(), body);
    }

    private static boolean queueExists(RabbitTransport transport, String queue) {
        try (com.rabbitmq.client.Channel channel = transport.publishingConnection().createChannel()) {
            channel.queueDeclarePassive(queue);
            return true;
        } catch (java.io.IOException e) {
            return false;
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRefusedLoginNeverShowsThePassword() {
        RabbitTransport.Builder builder = RabbitTransport.builder().credentials("guest", "s3cret-pw".toCharArray());
        assertThatThrownBy(builder::build)
                .isInstanceOf(io.eventsync.EventsyncException.class)
                .satisfies(e -> {
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain("s3cret-pw");
                    }
                });
    }

    @Test
    void aPublisherKeepsWorkingAfterItsExchangeWasDeleted() throws Exception {
        RabbitTransport transport = transport();
        Publisher publisher = transport.publisher(topic);
        List<OutboundEvent> before = sendAll(publisher, events(1, 3));
        try (com.rabbitmq.client.Channel admin = transport.publishingConnection().createChannel()) {
            admin.exchangeDelete(transport.exchangeName(topic)); // a channel error on the next publish
        }
        List<OutboundEvent> after = TestEvents.events(1, 4, 6);
        sendConfirmed(publisher, after, DEADLINE); // re-declares the exchange on a new channel

        Recorder recorder = Recorder.acking();
        subscribe(transport, SubscriptionSpec.fanout(topic, "late"), recorder);
        List<OutboundEvent> all = new ArrayList<>(before);
        all.addAll(after);
        await().atMost(DEADLINE).until(() -> new HashSet<>(recorder.ids()).containsAll(ids(all)));
    }

    @Test
    void oversizeEventIsRefusedWithAClearError() {
        RabbitTransport transport = transport(RabbitTransport.builder().maxEventBytes(1000));
        Publisher publisher = transport.publisher(topic);
        OutboundEvent small = event("key", 1);
        OutboundEvent big = new OutboundEvent(small.envelope(), new byte[1001]);

        assertThat(publisher.maxEventBytes()).isEqualTo(1000);
        assertThatThrownBy(() -> publisher.send(big).get()).hasCauseInstanceOf(PermanentException.class)
                .hasMessageContaining("1001 bytes").hasMessageContaining("maxEventBytes");
    }

    @Test
    void limitAboveTheBrokersMaxMessageSizeIsAConfigError() {
        assertThatThrownBy(() -> RabbitTransport.builder()
                .maxEventBytes(RabbitTransport.BROKER_DEFAULT_MAX_MESSAGE_SIZE + 1).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("maxEventBytes");
    }
}
