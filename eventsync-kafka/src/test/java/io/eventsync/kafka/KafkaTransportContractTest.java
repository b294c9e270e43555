package io.eventsync.kafka;

import static org.awaitility.Awaitility.await;

import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;

/** The transport contract against a real KRaft broker in a child JVM. */
class KafkaTransportContractTest extends TransportContract {
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Override
    protected Transport newTransport() {
        // Four partitions, so that two competing consumers of one group both get work.
        return KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).partitions(4).build();
    }

    @Override
    protected void restartBroker() {
        kafka.restart();
    }

    /** Ready once the group has given this consumer partitions (a rebalance, when a second member joins). */
    @Override
    protected void awaitReady(Subscription subscription) {
        await().atMost(awaitTimeout())
                .until(() -> !((KafkaSubscription) subscription).assignedPartitions().isEmpty());
    }

    @Override
    protected Duration awaitTimeout() {
        return Duration.ofSeconds(60);
    }
}
