package io.eventsync.rabbitmq;

import io.eventsync.transport.LagCheck;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.TestEvents;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * RabbitMQ tells a consumer's lag per queue (ready messages by passive declare, plus the deliveries
 * handed out and not acknowledged): with the handler blocked it reaches the events published over three
 * partitions, and falls to 0 once they are applied. Prefetch 1, so that no message waits unseen in the
 * client's buffer. Broker on 127.0.0.1:5672, exchange and queues of its own.
 */
class RabbitLagTest {
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
    void lagCountsTheEventsNotYetAppliedOnEveryQueueAndFallsToZero() throws Exception {
        String topic = "test.rabbit-lag-" + TestEvents.suffix();
        String group = TestEvents.unique("lag-copy");
        transport = RabbitTransport.builder().partitions(3).prefetch(1).build();
        cleanup.topic(transport, topic);
        cleanup.group(transport, SubscriptionSpec.fanout(topic, group));
        LagCheck.lagCountsEventsNotYetApplied(transport, topic, group, 30, Duration.ofSeconds(30), subscription -> {});
    }
}
