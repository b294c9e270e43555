package io.eventsync.kafka;

import static io.eventsync.kafka.TestEvents.unique;

import io.eventsync.jdbc.OneTrace;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.transport.Publisher;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One trace from the writer's span to the copy's apply across a real KRaft broker: the context rides in
 * the record's {@code ce_traceparent} header (CloudEvents binary mode, the default). H2 outbox and copy.
 */
class KafkaTracingTest {
    @RegisterExtension
    static final OpenTelemetryExtension otel = OpenTelemetryExtension.create();

    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Test
    void theWritersTraceRunsThroughTheRelaysSendToTheCopysApply() throws Exception {
        String topic = unique("traced");
        try (KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).build();
             Publisher publisher = transport.publisher(topic)) {
            OneTrace.fromWriterToCopy(otel, transport, publisher, topic, "kafka");
        }
    }
}
