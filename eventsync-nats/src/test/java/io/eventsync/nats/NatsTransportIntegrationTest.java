package io.eventsync.nats;

import static io.eventsync.transport.TestEvents.event;
import static io.eventsync.transport.TestEvents.ids;
import static io.eventsync.transport.TestEvents.sendAll;
import static io.eventsync.transport.TestEvents.sendConfirmed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Recorder;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.eventsync.v1.Envelope;
import io.nats.client.JetStreamManagement;
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

/** Runs against the NATS JetStream server on 127.0.0.1:4222. */
class NatsTransportIntegrationTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final List<NatsTransport> transports = new ArrayList<>();
    private String topic;

    @BeforeEach
    void names() {
        topic = "test.nats-" + TestEvents.suffix();
    }

    @AfterEach
    void cleanUp() throws Exception {
        NatsTransport admin = transport(NatsTransport.builder());
        JetStreamManagement jsm = admin.connection().jetStreamManagement();
        String stream = admin.streamName(topic);
        if (jsm.getStreamNames().contains(stream)) {
            jsm.deleteStream(stream);
        }
        transports.forEach(NatsTransport::close);
    }

    private NatsTransport transport(NatsTransport.Builder builder) {
        NatsTransport transport = builder.server("nats://127.0.0.1:4222").build();
        transports.add(transport);
        return transport;
    }

    private NatsTransport transport() {
        return transport(NatsTransport.builder());
    }

    private static List<OutboundEvent> events(int keys, int perKey) {
        return TestEvents.events(keys, 1, perKey);
    }

    @Test
    void publishedEventArrivesWithItsBytes() throws Exception {
        NatsTransport transport = transport();
        Recorder recorder = Recorder.acking();
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), recorder);
        OutboundEvent sent = event("order-1", 1);
        transport.publisher(topic).send(sent).get();

        await().atMost(DEADLINE).until(() -> recorder.events().size() == 1);
        assertThat(recorder.events().get(0)).isEqualTo(sent.envelope());
        assertThat(recorder.deliveries().get(0).partition()).isEqualTo(transport.streamName(topic) + "/copy");
        assertThat(recorder.deliveries().get(0).deliveryCount()).isEqualTo(1);
    }

    @Test
    void eventsOfOneKeyArriveInTheOrderSent() throws Exception {
        NatsTransport transport = transport();
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(5, 40));
        Recorder recorder = Recorder.acking();
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), recorder);

        await().atMost(DEADLINE).until(() -> recorder.events().size() >= sent.size());
        Map<String, List<Long>> byKey = recorder.events().stream().collect(Collectors.groupingBy(
                Envelope::getSubject, Collectors.mapping(Envelope::getSequence, Collectors.toList())));
        assertThat(byKey).hasSize(5);
        byKey.values().forEach(seqs -> assertThat(seqs).isSorted().doesNotHaveDuplicates().hasSize(40));
        List<Long> offsets = recorder.deliveries().stream().map(d -> d.offset()).toList();
        assertThat(offsets).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void everyGroupGetsEveryEventInFanOut() throws Exception {
        NatsTransport transport = transport();
        Recorder billing = Recorder.acking();
        Recorder search = Recorder.acking();
        transport.subscribe(SubscriptionSpec.fanout(topic, "billing"), billing);
        transport.subscribe(SubscriptionSpec.fanout(topic, "search"), search);
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(3, 10));

        await().atMost(DEADLINE).until(() -> billing.events().size() == 30 && search.events().size() == 30);
        assertThat(billing.ids()).containsExactlyInAnyOrderElementsOf(ids(sent));
        assertThat(search.ids()).containsExactlyInAnyOrderElementsOf(ids(sent));
    }

    @Test
    void competingConsumersOfAQueueGroupEachGetDistinctEvents() throws Exception {
        NatsTransport one = transport(NatsTransport.builder().fetchBatch(5));
        NatsTransport two = transport(NatsTransport.builder().fetchBatch(5));
        Recorder first = Recorder.acking();
        Recorder second = Recorder.acking();
        one.subscribe(SubscriptionSpec.queue(topic, "workers"), first);
        two.subscribe(SubscriptionSpec.queue(topic, "workers"), second);
        List<OutboundEvent> sent = sendAll(one.publisher(topic), events(10, 20));

        await().atMost(DEADLINE).until(() -> first.events().size() + second.events().size() >= sent.size());
        List<String> all = new ArrayList<>(first.ids());
        all.addAll(second.ids());
        assertThat(all).containsExactlyInAnyOrderElementsOf(ids(sent));
        assertThat(first.events()).isNotEmpty();
        assertThat(second.events()).isNotEmpty();
    }

    @Test
    void competingInstancesKeepPerKeyOrderWithOneEventInFlight() throws Exception {
        List<Envelope> handled = java.util.Collections.synchronizedList(new ArrayList<>());
        io.eventsync.transport.DeliveryHandler handler = delivery -> {
            try {
                handled.add(Envelope.parseFrom(delivery.bytes()));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
            delivery.ack();
        };
        NatsTransport one = transport(NatsTransport.builder().maxAckPending(1));
        NatsTransport two = transport(NatsTransport.builder().maxAckPending(1));
        one.subscribe(SubscriptionSpec.queue(topic, "ordered"), handler);
        two.subscribe(SubscriptionSpec.queue(topic, "ordered"), handler);
        List<OutboundEvent> sent = sendAll(one.publisher(topic), events(3, 30));

        await().atMost(DEADLINE).until(() -> handled.size() >= sent.size());
        Map<String, List<Long>> byKey;
        synchronized (handled) {
            byKey = handled.stream().collect(Collectors.groupingBy(
                    Envelope::getSubject, Collectors.mapping(Envelope::getSequence, Collectors.toList())));
        }
        byKey.values().forEach(seqs -> assertThat(seqs).isSorted().hasSize(30));
    }

    @Test
    void aWorkQueueStreamDropsAckedEventsAndAllowsOneGroup() throws Exception {
        NatsTransport transport = transport(NatsTransport.builder()
                .retention(io.nats.client.api.RetentionPolicy.WorkQueue));
        Recorder recorder = Recorder.acking();
        transport.subscribe(SubscriptionSpec.queue(topic, "workers"), recorder);
        List<OutboundEvent> sent = sendAll(transport.publisher(topic), events(2, 10));

        await().atMost(DEADLINE).until(() -> recorder.events().size() >= sent.size());
        JetStreamManagement jsm = transport.connection().jetStreamManagement();
        await().atMost(DEADLINE).until(() ->
                jsm.getStreamInfo(transport.streamName(topic)).getStreamState().getMsgCount() == 0);
        assertThatThrownBy(() -> transport.subscribe(SubscriptionSpec.queue(topic, "others"), Recorder.acking()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("others").hasMessageContaining("one group per topic");
    }

    @Test
    void unackedEventsAreRedeliveredAfterAConsumerCrash() throws Exception {
        NatsTransport crashing = transport(NatsTransport.builder().ackWait(Duration.ofSeconds(1)));
        Recorder lost = Recorder.neverAcking();
        Subscription crashed = crashing.subscribe(SubscriptionSpec.queue(topic, "workers"), lost);
        List<OutboundEvent> sent = sendAll(crashing.publisher(topic), events(2, 5));
        await().atMost(DEADLINE).until(() -> lost.events().size() == sent.size());
        crashed.close();

        Recorder survivor = Recorder.acking();
        transport(NatsTransport.builder().ackWait(Duration.ofSeconds(1)))
                .subscribe(SubscriptionSpec.queue(topic, "workers"), survivor);
        await().atMost(DEADLINE).until(() -> new HashSet<>(survivor.ids()).containsAll(ids(sent)));
        assertThat(survivor.deliveries()).allMatch(d -> d.deliveryCount() >= 2);
    }

    @Test
    void nothingIsLostAcrossAConnectionDrop() throws Exception {
        NatsTransport transport = transport(NatsTransport.builder().ackWait(Duration.ofSeconds(2)));
        Recorder recorder = Recorder.acking();
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), recorder);
        Publisher publisher = transport.publisher(topic);
        List<OutboundEvent> sent = new ArrayList<>(sendAll(publisher, events(4, 25)));

        transport.connection().forceReconnect();
        List<OutboundEvent> after = TestEvents.events(4, 26, 50);
        sendConfirmed(publisher, after, DEADLINE);
        sent.addAll(after);

        await().atMost(DEADLINE).until(() -> new HashSet<>(recorder.ids()).containsAll(ids(sent)));
        List<Long> oneToFifty = java.util.stream.LongStream.rangeClosed(1, 50).boxed().toList();
        assertThat(recorder.firstSeenSequencesByKey()).hasSize(4)
                .allSatisfy((key, seqs) -> assertThat(seqs).isEqualTo(oneToFifty));
    }

    @Test
    void oversizeEventIsRefusedWithAClearError() {
        NatsTransport transport = transport(NatsTransport.builder().maxEventBytes(1000));
        Publisher publisher = transport.publisher(topic);
        OutboundEvent big = TestEvents.event("key", 1);
        big = new OutboundEvent(big.envelope(), new byte[1001]);

        assertThat(publisher.maxEventBytes()).isEqualTo(1000);
        CompletableFuture<Void> send = publisher.send(big);
        assertThatThrownBy(send::get).hasCauseInstanceOf(PermanentException.class)
                .hasMessageContaining("1001 bytes").hasMessageContaining("maxEventBytes");
    }

    @Test
    void limitAboveTheServersMaxPayloadIsAConfigError() {
        long serverMax = transport().connection().getMaxPayload();
        assertThatThrownBy(() -> transport(NatsTransport.builder().maxEventBytes((int) serverMax)))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_payload");
    }

    @Test
    void aFailedConnectNeverShowsThePassword() {
        NatsTransport.Builder builder = NatsTransport.builder().server("nats://bob:s3cret-pw@127.0.0.1:1");
        assertThatThrownBy(builder::build)
                .isInstanceOf(io.eventsync.EventsyncException.class)
                .satisfies(e -> {
                    for (Throwable t = e; t != null; t = t.getCause()) {
                        assertThat(String.valueOf(t.getMessage())).doesNotContain("s3cret-pw");
                    }
                });
    }

    @Test
    void duplicatePublishOfOneEventIdIsStoredOnce() throws Exception {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters =
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        NatsTransport transport = transport(NatsTransport.builder().meterRegistry(meters));
        Publisher publisher = transport.publisher(topic);
        OutboundEvent first = event("same-id", "key", 1);
        publisher.send(first).get();
        publisher.send(event("same-id", "key", 1)).get();
        publisher.send(event("other-id", "key", 2)).get();

        JetStreamManagement jsm = transport.connection().jetStreamManagement();
        assertThat(jsm.getStreamInfo(transport.streamName(topic)).getStreamState().getMsgCount()).isEqualTo(2);
        assertThat(meters.get("eventsync.transport.sent").tag("result", "duplicate").counter().count()).isEqualTo(1);
        assertThat(meters.get("eventsync.transport.sent").tag("result", "ok").counter().count()).isEqualTo(2);
    }

    /** Anyone can publish to the subject: a malformed key header or no data is named on the delivery. */
    @Test
    void aMessageWithMalformedHeadersIsHandedOverWithItsDefectAndOrigin() throws Exception {
        NatsTransport transport = transport();
        java.util.List<io.eventsync.transport.Delivery> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), d -> {
            received.add(d);
            d.ack();
        });
        String subject = transport.connection().jetStreamManagement().getStreamInfo(transport.streamName(topic))
                .getConfiguration().getSubjects().get(0);
        io.nats.client.JetStream js = transport.connection().jetStream();
        byte[] data = event("order-1", 1).bytes();
        js.publish(subject, new io.nats.client.impl.Headers().put("Eventsync-Key", "order-1"), data);
        js.publish(subject, new io.nats.client.impl.Headers().add("Eventsync-Key", "a").add("Eventsync-Key", "b"), data);
        js.publish(subject, new io.nats.client.impl.Headers().put("Eventsync-Key", "order-1"), new byte[0]);
        js.publish(subject, null, data);

        await().atMost(DEADLINE).until(() -> received.size() == 4);
        assertThat(received.get(0).defect()).isNull();
        assertThat(received.get(0).transportKey()).isEqualTo("order-1");
        assertThat(received.get(0).origin()).isEqualTo("nats stream " + transport.streamName(topic) + " sequence 1"
                + " (subject " + subject + ")");
        assertThat(received.get(1).defect()).isEqualTo("header Eventsync-Key has 2 values, not one: 'a', 'b'");
        assertThat(received.get(1).transportKey()).isEmpty();
        assertThat(received.get(1).origin()).contains("sequence 2").contains("; headers 'Eventsync-Key'='a'");
        assertThat(received.get(2).defect()).isEqualTo("the message data is empty");
        assertThat(received.get(2).transportKey()).isEqualTo("order-1");
        assertThat(received.get(3).defect()).isNull();
        assertThat(received.get(3).transportKey()).as("no key header: no transport key, not a defect").isEmpty();
    }
}
