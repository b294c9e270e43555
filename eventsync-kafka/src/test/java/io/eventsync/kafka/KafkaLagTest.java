package io.eventsync.kafka;

import static io.eventsync.kafka.TestEvents.unique;
import static org.awaitility.Awaitility.await;

import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.transport.LagCheck;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka tells a consumer's lag per assigned partition (end offset minus the first unacknowledged offset):
 * with the handler blocked and fetching paused behind it, the lag over three partitions reaches the
 * events published, and falls to 0 once they are applied. Real KRaft broker.
 */
class KafkaLagTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Test
    void lagCountsTheEventsNotYetAppliedOnEveryPartitionAndFallsToZero() throws Exception {
        // maxQueued 2: the poll thread pauses fetching almost at once, so most events stay at the broker.
        try (KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .partitions(3).maxQueuedPerSubscription(2).build()) {
            LagCheck.lagCountsEventsNotYetApplied(transport, unique("lag"), unique("lag-copy"), 30, WAIT,
                    subscription -> await().atMost(WAIT).until(() ->
                            ((KafkaSubscription) subscription).assignedPartitions().size() == 3));
        }
    }
}
