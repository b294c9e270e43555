package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.PostgresCopy;
import io.eventsync.kafka.internal.CloudEventsBinding;
import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.HostileCorpus;
import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.RawRecord;
import io.eventsync.transport.RawRecord.Expect;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.v1.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;

/**
 * The hostile-input contract on Kafka: records produced with Kafka's own producer. The generic corpus
 * travels in eventsync's structured mode (the value is the record); the transport's own malformed
 * records are CloudEvents in binary mode with a bad or missing {@code ce_} header, and a null value.
 * The Kafka-side rules are the kafka helper's; what fails here only for them is theirs.
 */
class KafkaHostileInputTest extends HostileInputContract {
    /** Metadata: changes to the binary-mode headers of the record's envelope (the value is its payload). */
    private static final String BINARY = "binary-headers";
    /** Metadata: send a null value (structured content type). */
    private static final String NULL_VALUE = "null-value";

    private static LocalKafka kafka;
    private KafkaTransport transport;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Override
    protected Transport newTransport() {
        transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).partitions(2).build();
        return transport;
    }

    @Override
    protected CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) {
        return PostgresCopy.create(subscription, codec);
    }

    @Override
    protected void awaitReady(Subscription subscription) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> !((KafkaSubscription) subscription).assignedPartitions().isEmpty());
    }

    @Override
    protected Duration awaitTimeout() {
        return Duration.ofSeconds(90);
    }

    @Override
    protected RawWriter rawWriter(String topic) {
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        return new RawWriter() {
            @Override
            public void write(RawRecord record) {
                @SuppressWarnings("unchecked")
                Consumer<Headers> binary = (Consumer<Headers>) record.metadata().get(BINARY);
                byte[] value = record.metadata().containsKey(NULL_VALUE) ? null : record.value();
                ProducerRecord<String, byte[]> out = new ProducerRecord<>(topic, record.key(), value);
                if (binary != null) {
                    binary.accept(out.headers());
                } else {
                    out.headers().add(CloudEventsBinding.CONTENT_TYPE,
                            CloudEventsBinding.ENVELOPE_CONTENT_TYPE.getBytes(StandardCharsets.UTF_8));
                }
                producer.send(out);
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public void close() {
                producer.close();
            }
        };
    }

    @Override
    protected void addOwnMalformedRecords(HostileCorpus corpus) {
        binary(corpus, "kafka-bad-ce-time", h -> replace(h, "ce_time", "2024-01-01 10:00:00"), "ce_time");
        binary(corpus, "kafka-bad-ce-sequence", h -> replace(h, "ce_sequence", "seven"), "ce_sequence");
        binary(corpus, "kafka-missing-ce-id", h -> h.remove("ce_id"), "ce_id");
        binary(corpus, "kafka-bad-ce-specversion", h -> replace(h, "ce_specversion", "0.3"), "specversion");
        String key = corpus.hostileKey("kafka-null-value");
        corpus.add(new RawRecord("kafka-null-value", new byte[0], key, Map.of(NULL_VALUE, true),
                Expect.deadLetter("null|empty|no value")));
    }

    /** A CloudEvent in binary mode (the value is the payload) with one header spoiled. */
    private static void binary(HostileCorpus corpus, String label, Consumer<Headers> spoil, String reason) {
        String key = corpus.hostileKey(label);
        Envelope envelope = corpus.envelope(key, 1, label);
        Consumer<Headers> headers = h -> {
            CloudEventsBinding.binaryHeaders(envelope).forEach(h::add);
            spoil.accept(h);
        };
        corpus.add(new RawRecord(label, CloudEventsBinding.binaryValue(envelope), key, Map.of(BINARY, headers),
                Expect.deadLetter(reason)));
    }

    private static void replace(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception {
        Map<String, Object> config = new HashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        try (Admin admin = Admin.create(config)) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(spec.group())
                    .partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, OffsetSpec> latest = committed.keySet().stream()
                    .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
            Map<TopicPartition, Long> ends = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> ends.put(tp, info.offset()));
            assertThat(committed).as("committed partitions").hasSize(2);
            committed.forEach((tp, offset) -> assertThat(offset.offset()).as("committed offset of %s", tp)
                    .isEqualTo(ends.get(tp)));
        }
    }
}
