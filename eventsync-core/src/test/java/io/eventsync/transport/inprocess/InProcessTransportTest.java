package io.eventsync.transport.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class InProcessTransportTest extends TransportContract {

    /** The in-memory "broker" of this test; each client the suite opens connects to it. */
    private final InProcessTransport broker = InProcessTransport.builder().partitions(4).maxEventBytes(4096).build();

    @Override
    protected Transport newTransport() {
        return broker.connect();
    }

    @Test
    void deliveryThreadsAreNamedAfterTopicAndGroup() throws Exception {
        List<String> threads = new CopyOnWriteArrayList<>();
        transport.subscribe(SubscriptionSpec.fanout("named", "copy"), d -> {
            threads.add(Thread.currentThread().getName());
            d.ack();
        });
        publishAll("named", List.of(event("k", 1)));
        await().untilAsserted(() -> assertThat(threads).containsExactly("eventsync-inprocess-named-copy-1"));
    }

    @Test
    void aGroupCannotBeJoinedInTheOtherMode() {
        transport.subscribe(SubscriptionSpec.fanout("modes", "g"), Delivery::ack);
        assertThatThrownBy(() -> transport.subscribe(SubscriptionSpec.queue("modes", "g"), Delivery::ack))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("FANOUT");
    }

    @Test
    void partitionsMustBePositive() {
        assertThatThrownBy(() -> InProcessTransport.builder().partitions(0).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("partitions")
                .hasMessageContaining("0");
    }
}
