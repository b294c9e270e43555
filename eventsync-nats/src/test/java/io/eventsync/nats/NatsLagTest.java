package io.eventsync.nats;

import io.eventsync.transport.LagCheck;
import io.eventsync.transport.TestEvents;
import io.nats.client.JetStreamManagement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * JetStream tells a consumer's lag (the durable's pending plus ack-pending): with the handler blocked it
 * reaches the events published, and falls to 0 once they are applied and acknowledged. Server on
 * 127.0.0.1:4222, a stream of its own.
 */
class NatsLagTest {
    private final String topic = "test.nats-lag-" + TestEvents.suffix();
    private NatsTransport transport;

    @AfterEach
    void cleanUp() throws Exception {
        if (transport == null) {
            return;
        }
        JetStreamManagement jsm = transport.connection().jetStreamManagement();
        String stream = transport.streamName(topic);
        if (jsm.getStreamNames().contains(stream)) {
            jsm.deleteStream(stream);
        }
        transport.close();
    }

    @Test
    void lagCountsTheEventsNotYetAppliedAndFallsToZero() throws Exception {
        transport = NatsTransport.builder().server("nats://127.0.0.1:4222").build();
        LagCheck.lagCountsEventsNotYetApplied(transport, topic, TestEvents.unique("lag-copy"), 20,
                Duration.ofSeconds(30), subscription -> {});
    }
}
