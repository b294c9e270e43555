package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import static io.eventsync.kafka.TestEvents.envelope;
import static io.eventsync.kafka.TestEvents.outbound;
import static io.eventsync.kafka.TestEvents.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.kafka.TestEvents.Recorder;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KafkaTransportTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static LocalKafka kafka;

    private KafkaTransport transport;
    private String topic;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @BeforeEach
    void openTransport() {
        transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).partitions(3).build();
        topic = unique("orders");
    }

    @AfterEach
    void closeTransport() {
        transport.close();
    }

    @Test
    void publishedEnvelopeArrivesUnchangedInBinaryMode() throws Exception {
        assertRoundTrip(transport);
    }

    @Test
    void publishedEnvelopeArrivesUnchangedInStructuredMode() throws Exception {
        try (KafkaTransport structured = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .encoding(KafkaEncoding.STRUCTURED).build()) {
            assertRoundTrip(structured);
        }
    }

    private void assertRoundTrip(KafkaTransport under) throws Exception {
        Envelope sent = envelope("order-1", 1, "placed").toBuilder()
                .setPartitionKey("customer-7")
                .setTombstone(true)
                .putAttributes("sequence", "attribute named like an extension")
                .build();
        try (Publisher publisher = under.publisher(topic)) {
            publisher.send(outbound(sent)).get(30, TimeUnit.SECONDS);
        }
        Recorder recorder = Recorder.acking();
        try (Subscription ignored = under.subscribe(SubscriptionSpec.fanout(topic, unique("copy")), recorder)) {
            await().atMost(DEADLINE).until(() -> recorder.deliveries.size() == 1);
        }
        Delivery delivery = recorder.deliveries.get(0);
        assertThat(TestEvents.decode(delivery)).isEqualTo(sent);
        assertThat(delivery.partition()).startsWith(topic + "-");
        assertThat(delivery.offset()).isZero();
        assertThat(delivery.deliveryCount()).isEqualTo(1);
    }

    @Test
    void eventsOfOneKeyArriveInTheOrderTheyWereSent() throws Exception {
        List<String> keys = List.of("a", "b", "c", "d", "e");
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        try (Publisher publisher = transport.publisher(topic)) {
            for (int sequence = 1; sequence <= 100; sequence++) {
                for (String key : keys) {
                    sends.add(publisher.send(outbound(envelope(key, sequence, key + sequence))));
                }
            }
            TestEvents.awaitSent(sends);
        }
        Recorder recorder = Recorder.acking();
        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, unique("copy")), recorder)) {
            await().atMost(DEADLINE).until(() -> recorder.deliveries.size() == 500);
        }
        Map<String, List<Long>> sequencesByKey = recorder.envelopes().stream().collect(Collectors.groupingBy(
                Envelope::getSubject, LinkedHashMap::new, Collectors.mapping(Envelope::getSequence, Collectors.toList())));
        assertThat(sequencesByKey).hasSize(5);
        sequencesByKey.values().forEach(sequences -> assertThat(sequences).isSorted().hasSize(100).doesNotHaveDuplicates());
        Map<String, Set<String>> partitionsByKey = recorder.deliveries.stream().collect(Collectors.groupingBy(
                d -> TestEvents.decode(d).getSubject(), Collectors.mapping(Delivery::partition, Collectors.toSet())));
        partitionsByKey.values().forEach(partitions -> assertThat(partitions).hasSize(1));
    }

    @Test
    void fanOutDeliversEveryEventToEveryGroup() throws Exception {
        Recorder billing = Recorder.acking();
        Recorder shipping = Recorder.acking();
        try (Subscription a = transport.subscribe(SubscriptionSpec.fanout(topic, unique("billing")), billing);
             Subscription b = transport.subscribe(SubscriptionSpec.fanout(topic, unique("shipping")), shipping)) {
            List<String> sent = publish(30);
            await().atMost(DEADLINE).until(() -> billing.deliveries.size() >= 30 && shipping.deliveries.size() >= 30);
            assertThat(billing.ids()).containsExactlyInAnyOrderElementsOf(sent);
            assertThat(shipping.ids()).containsExactlyInAnyOrderElementsOf(sent);
        }
    }

    @Test
    void queueModeDeliversEachEventToExactlyOneConsumer() throws Exception {
        String group = unique("workers");
        Recorder first = Recorder.acking();
        Recorder second = Recorder.acking();
        try (Subscription a = transport.subscribe(SubscriptionSpec.queue(topic, group), first);
             Subscription b = transport.subscribe(SubscriptionSpec.queue(topic, group), second);
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            await().atMost(DEADLINE).until(() -> bothMembersHavePartitions(admin, group));
            List<String> sent = publish(120);
            await().atMost(DEADLINE).until(() -> first.deliveries.size() + second.deliveries.size() >= 120);
            List<String> received = new ArrayList<>(first.ids());
            received.addAll(second.ids());
            assertThat(received).containsExactlyInAnyOrderElementsOf(sent);
            assertThat(first.deliveries).isNotEmpty();
            assertThat(second.deliveries).isNotEmpty();
            Set<String> firstPartitions = first.deliveries.stream().map(Delivery::partition).collect(Collectors.toSet());
            Set<String> secondPartitions = second.deliveries.stream().map(Delivery::partition).collect(Collectors.toSet());
            assertThat(firstPartitions).doesNotContainAnyElementsOf(secondPartitions);
        }
    }

    private static boolean bothMembersHavePartitions(Admin admin, String group) throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all()
                .get(10, TimeUnit.SECONDS).get(group);
        return description.members().size() == 2
                && description.members().stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty());
    }

    @Test
    void unacknowledgedEventsAreDeliveredAgainAfterAConsumerCrash() throws Exception {
        String group = unique("copy");
        List<String> sent = publish(10);
        Recorder crashing = new Recorder(false);
        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, group), crashing)) {
            await().atMost(DEADLINE).until(() -> crashing.deliveries.size() == 10);
            // The first four of each partition are done; the rest were in flight when the consumer died.
            Map<String, List<Delivery>> byPartition = crashing.deliveries.stream()
                    .collect(Collectors.groupingBy(Delivery::partition));
            byPartition.values().forEach(deliveries -> deliveries.stream().limit(1).forEach(Delivery::ack));
        }
        Set<String> acked = crashing.deliveries.stream()
                .collect(Collectors.groupingBy(Delivery::partition)).values().stream()
                .map(deliveries -> TestEvents.decode(deliveries.get(0)).getId()).collect(Collectors.toSet());

        Recorder restarted = Recorder.acking();
        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, group), restarted)) {
            await().atMost(DEADLINE).until(() -> restarted.deliveries.size() >= 10 - acked.size());
            Set<String> expected = new HashSet<>(sent);
            expected.removeAll(acked);
            assertThat(restarted.ids()).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    void oversizeEventIsRefusedAtOnceNamingSizeAndLimit() {
        try (KafkaTransport small = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .maxEventBytes(1_000).build();
             Publisher publisher = small.publisher(topic)) {
            Envelope big = envelope("order-1", 1, "x".repeat(2_000));
            int size = big.toByteArray().length;
            CompletableFuture<Void> send = publisher.send(outbound(big));
            assertThat(publisher.maxEventBytes()).isEqualTo(1_000);
            assertThat(send).isCompletedExceptionally();
            assertThat(send).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                    .havingCause().isInstanceOf(PermanentException.class)
                    .withMessageContaining(Integer.toString(size)).withMessageContaining("1000")
                    .withMessageContaining(big.getId());
        }
    }

    @Test
    void aHandlerBlockingLongerThanThePollIntervalKeepsItsPartitionsAndGetsEachEventOnce() throws Exception {
        String group = unique("slow");
        CountDownLatch release = new CountDownLatch(1);
        List<Delivery> received = new CopyOnWriteArrayList<>();
        try (KafkaTransport strict = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .partitions(1).maxQueuedPerSubscription(5)
                .clientProperty("max.poll.interval.ms", "1500")
                .clientProperty("max.poll.records", "5")
                .build();
             Subscription subscription = strict.subscribe(SubscriptionSpec.fanout(topic, group), delivery -> {
                 release.await(); // a dispatcher pushing back: far longer than max.poll.interval.ms
                 received.add(delivery);
                 delivery.ack();
             });
             Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            List<String> sent = publish(50);
            // Were the poll thread blocked, the group would evict the member after 1.5 s and the events
            // would be delivered again after it rejoined.
            await().pollDelay(Duration.ofSeconds(3)).atMost(DEADLINE)
                    .until(() -> memberCount(admin, group) == 1 && received.isEmpty());
            release.countDown();
            await().atMost(DEADLINE).until(() -> received.size() >= 50);
            assertThat(received.stream().map(d -> TestEvents.decode(d).getId()).toList())
                    .containsExactlyElementsOf(sent);
            assertThat(((KafkaSubscription) subscription).assignedPartitions()).containsExactly(topic + "-0");
        }
    }

    @Test
    void aRebalanceWaitsForInFlightDeliveriesAndTheNextOwnerStartsAfterThem() throws Exception {
        String group = unique("copy");
        Recorder holding = Recorder.notAcking();
        try (KafkaTransport patient = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .partitions(2).revokeTimeout(Duration.ofSeconds(40)).build();
             Subscription first = patient.subscribe(SubscriptionSpec.fanout(topic, group), holding)) {
            await().atMost(DEADLINE).until(() -> ((KafkaSubscription) first).assignedPartitions().size() == 2);
            List<String> before = publish(40);
            await().atMost(DEADLINE).until(() -> holding.deliveries.size() == 40);

            Recorder next = Recorder.acking();
            try (Subscription second = patient.subscribe(SubscriptionSpec.fanout(topic, group), next)) {
                // The partition moving to the second consumer stays with the first while its work is in flight.
                await().atMost(DEADLINE).until(() -> ((KafkaSubscription) first).revokingPartitions().size() == 1);
                await().pollDelay(Duration.ofSeconds(1)).atMost(DEADLINE)
                        .until(() -> ((KafkaSubscription) first).revokingPartitions().size() == 1);
                assertThat(((KafkaSubscription) second).assignedPartitions()).isEmpty();
                holding.deliveries.forEach(Delivery::ack); // per partition in offset order
                await().atMost(DEADLINE).until(() -> ((KafkaSubscription) second).assignedPartitions().size() == 1);
                List<String> after = publish(40);
                await().atMost(DEADLINE).until(() -> next.deliveries.size() + holding.deliveries.size() >= 80);
                assertThat(next.ids()).doesNotContainAnyElementsOf(before).isSubsetOf(after).isNotEmpty();
            }
        }
    }

    @Test
    void secretClientPropertiesNeverAppearInTheDescription() {
        try (KafkaTransport secured = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .clientProperty("security.protocol", "SASL_SSL")
                .clientProperty("sasl.jaas.config", "ScramLoginModule required username=\"u\" password=\"s3cr3t\";")
                .clientProperty("ssl.truststore.password", "trust-me")
                .clientProperty("ssl.key.password", "key-pass")
                .build()) {
            assertThat(secured.toString()).contains("SASL_SSL").contains("sasl.jaas.config=[hidden]")
                    .doesNotContain("s3cr3t").doesNotContain("trust-me").doesNotContain("key-pass");
        }
    }

    @Test
    void settingsEventsyncDependsOnCannotBeOverridden() {
        assertThatThrownBy(() -> KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .clientProperty("enable.auto.commit", "true").build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("enable.auto.commit").hasMessageContaining("true");
        assertThatThrownBy(() -> KafkaTransport.builder().partitions(2).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("bootstrapServers").hasMessageContaining("null");
    }

    private static int memberCount(Admin admin, String group) throws Exception {
        return admin.describeConsumerGroups(List.of(group)).all().get(10, TimeUnit.SECONDS).get(group).members().size();
    }

    private List<String> publish(int count) throws Exception {
        List<String> ids = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        try (Publisher publisher = transport.publisher(topic)) {
            for (int i = 1; i <= count; i++) {
                Envelope envelope = envelope("order-" + (i % 7), i, "event " + i);
                ids.add(envelope.getId());
                sends.add(publisher.send(outbound(envelope)));
            }
            TestEvents.awaitSent(sends);
        }
        return ids;
    }
}
