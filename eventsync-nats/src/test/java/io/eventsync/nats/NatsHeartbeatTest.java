package io.eventsync.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nats.client.JetStreamManagement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A stream is one ordered sequence per topic: a heartbeat sent to all partitions is one message, applied
 * after the events sent before it, and the copy's freshness comes from it. Server on 127.0.0.1:4222.
 */
class NatsHeartbeatTest {
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    private final String topic = "test.nats-hb-" + TestEvents.suffix();
    private NatsTransport transport;

    @AfterEach
    void cleanUp() throws Exception {
        JetStreamManagement jsm = transport.connection().jetStreamManagement();
        String stream = transport.streamName(topic);
        if (jsm.getStreamNames().contains(stream)) {
            jsm.deleteStream(stream);
        }
        transport.close();
    }

    @Test
    void aHeartbeatAfterEventsGivesTheCopyItsFreshness() throws Exception {
        transport = NatsTransport.builder().server("nats://127.0.0.1:4222").build();
        AtomicInteger applied = new AtomicInteger();
        Instant sourceTime = Instant.now();
        try (Dispatcher dispatcher = Dispatcher.builder("copy-" + TestEvents.suffix())
                .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                    applied.incrementAndGet();
                    return Outcome.applied();
                }, HandlerOptions.defaults()).build())
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .meterRegistry(new SimpleMeterRegistry()).build()) {
            transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), dispatcher);
            Publisher publisher = transport.publisher(topic);
            for (int i = 1; i <= 3; i++) {
                Envelope e = Events.create("shop", "k" + i, 1, StringValue.of("v" + i));
                publisher.send(new OutboundEvent(e, CODEC.encode(e))).get(30, TimeUnit.SECONDS);
            }
            Envelope heartbeat = Heartbeats.create("shop", sourceTime, 3);
            publisher.sendToAllPartitions(new OutboundEvent(heartbeat, CODEC.encode(heartbeat))).get(30, TimeUnit.SECONDS);

            await().atMost(Duration.ofSeconds(30)).until(() -> dispatcher.freshness().containsKey("shop"));
            CopyFreshness f = dispatcher.freshness().get("shop");
            assertThat(f.sourceTime()).isEqualTo(sourceTime);
            assertThat(f.partitions()).isEqualTo(1);
            assertThat(applied.get()).isEqualTo(3); // recorded only once the events before it were applied
        }
    }
}
