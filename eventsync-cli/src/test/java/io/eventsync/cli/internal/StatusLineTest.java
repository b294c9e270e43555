package io.eventsync.cli.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.cli.demo.proto.OrderPlaced;
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
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.inprocess.InProcessTransport;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@code eventsync run}'s status line: applied events, their rate, freshness per source, dead letters. */
class StatusLineTest {
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();

    @Test
    void theLineShowsAppliedEventsAndTheFreshnessOfEachSourceOnceAHeartbeatWasApplied() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (InProcessTransport transport = InProcessTransport.create();
             Dispatcher dispatcher = Dispatcher.builder("billing")
                     .handlers(HandlerRegistry.builder().on(OrderPlaced.class, (o, ctx) -> Outcome.applied(),
                             HandlerOptions.defaults()).build())
                     .types(TypeRegistry.builder().add(OrderPlaced.getDefaultInstance()).build())
                     .meterRegistry(meters).build();
             Subscription ignored = transport.subscribe(SubscriptionSpec.fanout("orders", "billing"), dispatcher);
             StatusLine line = new StatusLine(dispatcher, meters)) {
            assertThat(line.next()).isEqualTo(
                    "billing: applied 0 (0.0/s), freshness unknown (no heartbeat yet), lag 0 in flight, dead letters 0");

            Publisher publisher = transport.publisher("orders");
            for (int i = 1; i <= 11; i++) {
                OrderPlaced.Builder order = OrderPlaced.newBuilder().setOrderId("order-" + i).setCustomerId("c-" + i)
                        .setAmountCents(i * 100L).setCurrency("EUR").setShippingAddress("1 Main St");
                Envelope e = Events.create("orders", "order-" + i, 1, i == 11 ? order.setCurrency("euro").build()
                        : order.build()); // the last is invalid: a dead letter
                publisher.send(new OutboundEvent(e, CODEC.encode(e))).join();
            }
            Envelope beat = Heartbeats.create("orders", Instant.now(), 10);
            publisher.sendToAllPartitions(new OutboundEvent(beat, CODEC.encode(beat))).join();
            await().until(() -> dispatcher.freshness().containsKey("orders")
                    && sum(meters, "eventsync.dispatcher.applied") == 10
                    && sum(meters, "eventsync.dispatcher.dead_lettered") == 1);

            assertThat(line.next()).matches(
                    "billing: applied 10 \\(2\\.0/s\\), freshness orders \\d+\\.\\d\\d s, lag \\d+ in flight, dead letters 1");
        }
    }

    private static double sum(SimpleMeterRegistry meters, String counter) {
        return meters.find(counter).counters().stream().mapToDouble(Counter::count).sum();
    }
}
