package io.eventsync.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Recorder;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A heartbeat sent to all partitions reaches every partition queue once. Broker on 127.0.0.1:5672. */
class RabbitHeartbeatTest {
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
    void aHeartbeatReachesEveryPartitionQueueOnce() throws Exception {
        String topic = "test.rabbit-hb-" + TestEvents.suffix();
        transport = RabbitTransport.builder().partitions(3).build();
        cleanup.topic(transport, topic);
        SubscriptionSpec spec = SubscriptionSpec.fanout(topic, "copy");
        cleanup.group(transport, spec);
        Recorder recorder = Recorder.acking();
        transport.subscribe(spec, recorder);
        Envelope heartbeat = Heartbeats.create("shop", Instant.now(), 5);

        transport.publisher(topic).sendToAllPartitions(new OutboundEvent(heartbeat,
                EnvelopeCodec.defaults().encode(heartbeat))).get(30, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(30)).until(() -> recorder.deliveries().size() >= 3);
        Set<String> partitions = recorder.deliveries().stream().map(Delivery::partition).collect(Collectors.toSet());
        assertThat(partitions).containsExactlyInAnyOrderElementsOf(transport.queueNames(spec));
        assertThat(recorder.events()).hasSize(3).allMatch(e -> e.getId().equals(heartbeat.getId()));
    }

    @Test
    void aHeartbeatThatNoGroupConsumesWaitsWithAnExpiryAndEventsDoNot() throws Exception {
        String topic = "test.rabbit-hb-ttl-" + TestEvents.suffix();
        transport = RabbitTransport.builder().partitions(2).build();
        cleanup.topic(transport, topic);
        Envelope heartbeat = Heartbeats.create("shop", Instant.now(), 5);
        Envelope event = TestEvents.envelope("k", 1);
        var publisher = transport.publisher(topic);
        publisher.sendToAllPartitions(new OutboundEvent(heartbeat, EnvelopeCodec.defaults().encode(heartbeat)))
                .get(30, TimeUnit.SECONDS);
        publisher.send(new OutboundEvent(event, EnvelopeCodec.defaults().encode(event))).get(30, TimeUnit.SECONDS);

        java.util.Map<String, String> expiryByType = new java.util.HashMap<>();
        try (com.rabbitmq.client.Channel admin = transport.publishingConnection().createChannel()) {
            for (int n = 0; n < 3; n++) {
                com.rabbitmq.client.GetResponse got = admin.basicGet(transport.unroutedQueueName(topic), true);
                assertThat(got).as("message %s in the unrouted queue", n).isNotNull();
                expiryByType.put(got.getProps().getType() + "#" + n, String.valueOf(got.getProps().getExpiration()));
            }
        }
        assertThat(expiryByType).hasSize(3);
        assertThat(expiryByType).allSatisfy((type, expiry) -> assertThat(expiry).isEqualTo(
                type.startsWith(Heartbeats.TYPE + "#") ? io.eventsync.rabbitmq.internal.RabbitPublisher.HEARTBEAT_TTL_MILLIS : "null"));
    }
}
