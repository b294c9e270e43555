package io.eventsync.kafka;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.kafka.TestEvents.Recorder;
import io.eventsync.kafka.internal.CloudEventsBinding;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.kafka.TestEvents.envelope;
import static io.eventsync.kafka.TestEvents.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Records that are not well-formed eventsync events, written into a consumed topic as a non-eventsync
 * producer (kcat, a script) would, between valid events: each arrives with its defect named, its record
 * key as the only key it may park, and where it came from; the valid events around it flow on.
 */
class KafkaMalformedRecordsTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static LocalKafka kafka;

    private KafkaTransport transport;
    private String topic;
    private List<Envelope> valid;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @BeforeEach
    void writeTheRecords() throws Exception {
        transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).partitions(1).build();
        topic = unique("hostile");
        transport.publisher(topic).close(); // creates the topic
        valid = List.of(event("acct-1", 1), event("acct-2", 1), event("acct-7", 2));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "key.serializer", StringSerializer.class, "value.serializer", ByteArraySerializer.class))) {
            send(producer, valid.get(0).getSubject(), binary(valid.get(0)), CloudEventsBinding.binaryValue(valid.get(0)));
            // offset 1: a binary event of acct-7 whose time header is not RFC 3339; its value is a payload that,
            // read as an envelope, would name another key
            Headers badTime = binary(event("acct-7", 1));
            badTime.remove("ce_time");
            badTime.add("ce_time", utf8("2024-01-01 10:00:00"));
            send(producer, "acct-7", badTime, StringValue.of("acct-0007").toByteArray());
            send(producer, valid.get(1).getSubject(), binary(valid.get(1)), CloudEventsBinding.binaryValue(valid.get(1)));
            // offset 3: well-formed headers of acct-8, but no value
            send(producer, "acct-8", binary(event("acct-8", 1)), null);
            // offset 4: no key, no headers, an empty value
            send(producer, null, new RecordHeaders(), new byte[0]);
            send(producer, valid.get(2).getSubject(), binary(valid.get(2)), CloudEventsBinding.binaryValue(valid.get(2)));
            producer.flush();
        }
    }

    @AfterEach
    void closeTransport() {
        transport.close();
    }

    @Test
    void eachMalformedRecordArrivesWithItsDefectRecordKeyAndOrigin() {
        Recorder recorder = Recorder.acking();
        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, unique("copy")), recorder)) {
            await().atMost(DEADLINE).until(() -> recorder.deliveries.size() == 6);
        }
        List<Delivery> d = recorder.deliveries;
        assertThat(d).extracting(Delivery::offset).containsExactly(0L, 1L, 2L, 3L, 4L, 5L);
        assertThat(d).extracting(Delivery::transportKey).containsExactly("acct-1", "acct-7", "acct-2", "acct-8", "", "acct-7");

        assertThat(d.get(1).defect()).isEqualTo("header ce_time is not an RFC 3339 timestamp: '2024-01-01 10:00:00'");
        assertThat(d.get(1).bytes()).isEqualTo(StringValue.of("acct-0007").toByteArray());
        assertThat(d.get(1).origin()).startsWith("kafka topic " + topic + " partition 0 offset 1 key 'acct-7' headers {")
                .contains("ce_time='2024-01-01 10:00:00'").contains("ce_subject='acct-7'");
        assertThat(d.get(3).defect()).startsWith("the record value is null");
        assertThat(d.get(3).bytes()).isEmpty();
        assertThat(d.get(4).defect()).startsWith("the record is not an eventsync event")
                .contains("content-type is missing").contains("has 0 bytes");
        assertThat(d.get(4).origin()).isEqualTo("kafka topic " + topic + " partition 0 offset 4 key null headers {}");

        for (int i : new int[] {0, 2, 5}) {
            assertThat(d.get(i).defect()).isNull();
            assertThat(d.get(i).origin()).isEqualTo("kafka topic " + topic + " partition 0 offset " + i);
        }
        assertThat(List.of(TestEvents.decode(d.get(0)), TestEvents.decode(d.get(2)), TestEvents.decode(d.get(5))))
                .containsExactlyElementsOf(valid);
    }

    /**
     * Through a dispatcher: each malformed record is one FAILED letter with its true reason and origin,
     * parking only its record key; no key read out of a value is ever parked. Needs the dispatcher to
     * honour {@link Delivery#defect()}.
     */
    @Test
    void eachMalformedRecordBecomesOneLetterWithItsTrueReasonParkingOnlyItsRecordKey() {
        InMemoryDeadLetters letters = new InMemoryDeadLetters();
        List<String> applied = new CopyOnWriteArrayList<>();
        String group = unique("copy");
        try (Dispatcher dispatcher = Dispatcher.builder(group)
                .handlers(HandlerRegistry.builder().on(StringValue.class, (payload, context) -> {
                    applied.add(context.envelope().getSubject() + "#" + context.envelope().getSequence());
                    return Outcome.applied();
                }).build())
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .deadLetters(letters)
                .build();
             Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher)) {
            await().atMost(DEADLINE).until(() -> applied.size() + letters.list(group).size() >= 6);
        }
        assertThat(applied).containsExactlyInAnyOrder("acct-1#1", "acct-2#1");
        List<DeadLetter> failed = letters.list(group).stream().filter(l -> l.kind() == DeadLetter.Kind.FAILED).toList();
        assertThat(failed).hasSize(3);
        assertThat(failed).extracting(DeadLetter::reason).contains(
                "malformed: header ce_time is not an RFC 3339 timestamp: '2024-01-01 10:00:00'",
                "malformed: the record value is null: in binary mode it is the event's payload, which every"
                        + " eventsync event has")
                .anyMatch(reason -> reason.startsWith("malformed: the record is not an eventsync event"));
        assertThat(failed).extracting(DeadLetter::origin).allMatch(o -> o.startsWith("kafka topic " + topic));
        assertThat(letters.list(group)).filteredOn(DeadLetter::parksKey).extracting(DeadLetter::key)
                .containsOnly("acct-7", "acct-8");
        // acct-7's valid event waits behind the letter of its malformed one, as a parked key's events do.
        assertThat(letters.list(group)).filteredOn(l -> l.kind() == DeadLetter.Kind.HELD)
                .extracting(DeadLetter::eventId).containsExactly(valid.get(2).getId());
    }

    private static Envelope event(String key, long sequence) {
        return envelope(key, sequence, key + "#" + sequence).toBuilder()
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(Instant.now().getEpochSecond()))
                .build();
    }

    private static Headers binary(Envelope envelope) {
        return CloudEventsBinding.binaryHeaders(envelope);
    }

    private void send(KafkaProducer<String, byte[]> producer, String key, Headers headers, byte[] value)
            throws Exception {
        producer.send(new ProducerRecord<>(topic, 0, key, value, headers)).get(30, TimeUnit.SECONDS);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
