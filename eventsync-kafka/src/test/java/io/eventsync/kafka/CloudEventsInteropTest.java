package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import static io.eventsync.kafka.TestEvents.envelope;
import static io.eventsync.kafka.TestEvents.outbound;
import static io.eventsync.kafka.TestEvents.unique;
import static org.assertj.core.api.Assertions.assertThat;

import io.cloudevents.CloudEvent;
import io.cloudevents.kafka.CloudEventDeserializer;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** An eventsync topic read by the official CloudEvents Java SDK, with no eventsync code on the reading side. */
class CloudEventsInteropTest {
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Test
    void theCloudEventsSdkReadsTheSameAttributesAndPayloadBytes() throws Exception {
        String topic = unique("interop");
        Envelope sent = envelope("order-42", 7, "placed").toBuilder().setPartitionKey("customer-9").build();
        try (KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).build();
             Publisher publisher = transport.publisher(topic)) {
            publisher.send(outbound(sent)).get(30, TimeUnit.SECONDS);
        }

        CloudEvent event = readOne(topic);

        assertThat(event.getSpecVersion().toString()).isEqualTo("1.0");
        assertThat(event.getId()).isEqualTo(sent.getId());
        assertThat(event.getSource()).isEqualTo(URI.create(sent.getSource()));
        assertThat(event.getType()).isEqualTo(sent.getType());
        assertThat(event.getSubject()).isEqualTo(sent.getSubject());
        assertThat(event.getTime().toInstant())
                .isEqualTo(Instant.ofEpochSecond(sent.getTime().getSeconds(), sent.getTime().getNanos()));
        assertThat(event.getDataContentType()).isEqualTo("application/protobuf");
        assertThat(event.getData().toBytes()).isEqualTo(sent.getPayload().getValue().toByteArray());
        assertThat(event.getExtension("sequence")).isEqualTo("7");
        assertThat(event.getExtension("partitionkey")).isEqualTo("customer-9");
        assertThat(event.getExtension("traceparent")).isEqualTo(sent.getTraceparent());
        assertThat(event.getExtension("position")).isEqualTo("70");
        assertThat(event.getExtension("tenant")).isEqualTo("acme");
    }

    private static CloudEvent readOne(String topic) {
        Map<String, Object> config = Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "group.id", unique("cloudevents-sdk"),
                "auto.offset.reset", "earliest");
        try (KafkaConsumer<String, CloudEvent> consumer =
                     new KafkaConsumer<>(config, new StringDeserializer(), new CloudEventDeserializer())) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, CloudEvent>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (records.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(records::add);
            }
            assertThat(records).hasSize(1);
            assertThat(records.get(0).key()).isEqualTo("customer-9");
            return records.get(0).value();
        }
    }
}
