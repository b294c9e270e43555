package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import static io.eventsync.kafka.TestEvents.envelope;
import static io.eventsync.kafka.TestEvents.outbound;
import static io.eventsync.kafka.TestEvents.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.kafka.TestEvents.Recorder;
import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.common.GroupType;
import org.junit.jupiter.api.Test;

/** Which consumer group protocol subscriptions use, and the fallback when a cluster lacks KIP-848. */
class KafkaGroupProtocolTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Test
    void aGroupUsesTheConsumerProtocolWhenTheBrokerSupportsIt() throws Exception {
        LocalKafka kafka = SharedKafka.get();
        String topic = unique("kip848");
        String group = unique("copy");
        try (KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .partitions(2).build();
             Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", kafka.bootstrapServers()))) {
            Recorder recorder = Recorder.acking();
            try (Subscription subscription = transport.subscribe(SubscriptionSpec.queue(topic, group), recorder)) {
                await().atMost(DEADLINE).until(() -> !((KafkaSubscription) subscription).assignedPartitions().isEmpty());
                List<String> sent = publish(transport, topic, 20);
                await().atMost(DEADLINE).until(() -> recorder.ids().containsAll(sent));
                assertThat(((KafkaSubscription) subscription).groupProtocol()).isEqualTo(GroupProtocol.CONSUMER);
                assertThat(groupType(admin, group)).isEqualTo(GroupType.CONSUMER);
            }
        }
    }

    @Test
    void onABrokerWithoutTheConsumerProtocolAutoFallsBackToClassicAndConsumes() throws Exception {
        try (LocalKafka classicOnly = LocalKafka.builder()
                .brokerProperty("group.coordinator.rebalance.protocols", "classic").start();
             KafkaTransport transport = KafkaTransport.builder().bootstrapServers(classicOnly.bootstrapServers())
                     .partitions(2).build();
             Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", classicOnly.bootstrapServers()))) {
            String topic = unique("classic");
            String group = unique("copy");
            Recorder first = Recorder.acking();
            try (Subscription subscription = transport.subscribe(SubscriptionSpec.queue(topic, group), first)) {
                List<String> sent = publish(transport, topic, 20);
                await().atMost(DEADLINE).until(() -> first.ids().containsAll(sent));
                assertThat(((KafkaSubscription) subscription).groupProtocol()).isEqualTo(GroupProtocol.CLASSIC);
                assertThat(groupType(admin, group)).isEqualTo(GroupType.CLASSIC);
            }
            // The transport remembers: a later subscription starts with the classic protocol.
            Recorder second = Recorder.acking();
            try (Subscription subscription = transport.subscribe(SubscriptionSpec.fanout(topic, unique("other")), second)) {
                assertThat(((KafkaSubscription) subscription).groupProtocol()).isEqualTo(GroupProtocol.CLASSIC);
                await().atMost(DEADLINE).until(() -> second.deliveries.size() >= 20);
            }
        }
    }

    @Test
    void classicOnlyPropertiesAreRefusedUnlessTheClassicProtocolIsChosen() {
        assertThatThrownBy(() -> KafkaTransport.builder().bootstrapServers("127.0.0.1:9092")
                .clientProperty("session.timeout.ms", "6000").build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("session.timeout.ms").hasMessageContaining("classic")
                .hasMessageContaining("group.consumer.session.timeout.ms");
        assertThatThrownBy(() -> KafkaTransport.builder().bootstrapServers("127.0.0.1:9092")
                .groupProtocol(KafkaGroupProtocol.CLASSIC).clientProperty("group.remote.assignor", "range").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("group.remote.assignor");
        assertThatThrownBy(() -> KafkaTransport.builder().bootstrapServers("127.0.0.1:9092")
                .clientProperty("group.protocol", "classic").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("group.protocol");
        try (KafkaTransport classic = KafkaTransport.builder().bootstrapServers("127.0.0.1:9092")
                .groupProtocol(KafkaGroupProtocol.CLASSIC).clientProperty("session.timeout.ms", "6000").build()) {
            assertThat(classic.toString()).contains("group protocol classic").contains("session.timeout.ms=6000");
        }
    }

    private static GroupType groupType(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).type();
    }

    private static List<String> publish(KafkaTransport transport, String topic, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        try (Publisher publisher = transport.publisher(topic)) {
            for (int i = 1; i <= count; i++) {
                var event = envelope("order-" + (i % 5), i, "event " + i);
                ids.add(event.getId());
                sends.add(publisher.send(outbound(event)));
            }
            TestEvents.awaitSent(sends);
        }
        return ids;
    }
}
