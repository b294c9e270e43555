package io.eventsync.transport.inprocess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.eventsync.ConfigException;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
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
    void aHandlerThatThrowsActsAsACrashAndItsEventIsDeliveredToTheNextConsumer() throws Exception {
        List<Long> firstSeen = new CopyOnWriteArrayList<>();
        transport.subscribe(SubscriptionSpec.queue("throws", "g"), d -> {
            firstSeen.add(d.offset());
            if (d.offset() == 1) {
                throw new IllegalStateException("handler bug");
            }
            d.ack();
        });
        publishAll("throws", List.of(event("k", 1), event("k", 2), event("k", 3)));
        await().untilAsserted(() -> assertThat(firstSeen).containsExactly(0L, 1L));

        List<Long> nextSeen = new CopyOnWriteArrayList<>();
        List<Integer> counts = new CopyOnWriteArrayList<>();
        transport.subscribe(SubscriptionSpec.queue("throws", "g"), d -> {
            nextSeen.add(d.offset());
            counts.add(d.deliveryCount());
            d.ack();
        });
        await().untilAsserted(() -> assertThat(nextSeen).containsExactly(1L, 2L));
        assertThat(counts.get(0)).isGreaterThan(1);
    }

    @Test
    void eventsUnfinishedWhenADispatcherClosesAreAppliedByTheNextOne() throws Exception {
        TypeRegistry types = TypeRegistry.builder().add(StringValue.getDefaultInstance()).build();
        Set<String> applied = ConcurrentHashMap.newKeySet();
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch stuckStarted = new CountDownLatch(1);
        Dispatcher first = Dispatcher.builder("copy").types(types).shutdownTimeout(Duration.ZERO)
                .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                    if (ctx.envelope().getSubject().equals("stuck")) {
                        stuckStarted.countDown();
                        never.await(); // interrupted when the dispatcher closes
                    }
                    applied.add(ctx.envelope().getId());
                    return Outcome.applied();
                }).build()).build();
        Subscription subscription = transport.subscribe(SubscriptionSpec.fanout("restart", "copy"), first);
        List<OutboundEvent> others = List.of(event("a", 1), event("b", 1), event("a", 2));
        publishAll("restart", others);
        await().untilAsserted(() -> assertThat(applied).isEqualTo(idsOf(others)));
        OutboundEvent stuck = event("stuck", 1);
        publishAll("restart", List.of(stuck));
        assertThat(stuckStarted.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        subscription.close();
        first.close();
        assertThat(applied).doesNotContain(stuck.envelope().getId());

        try (Dispatcher second = Dispatcher.builder("copy").types(types)
                .handlers(HandlerRegistry.builder().on(StringValue.class, (v, ctx) -> {
                    applied.add(ctx.envelope().getId());
                    return Outcome.applied();
                }).build()).build()) {
            transport.subscribe(SubscriptionSpec.fanout("restart", "copy"), second);
            await().untilAsserted(() -> assertThat(applied).contains(stuck.envelope().getId()));
        }
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
