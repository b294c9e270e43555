package io.eventsync.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.CopyLag;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lag check every transport that tells its lag ({@link Subscription#lag()}) runs against its real
 * broker: a dispatcher whose handler is blocked on the first event, with one delivery in flight at most,
 * so the others stay at the broker (or in the transport's buffers); {@code n} events published; its lag
 * reaches {@code n}, told by the transport (a dispatcher alone would count the one it holds); the handler
 * is released, every event is applied and the lag falls to 0. Polls, never sleeps.
 */
public final class LagCheck {
    /** Waits until a new subscription receives what is published from now on (a Kafka assignment, say). */
    @FunctionalInterface
    public interface Ready {
        void await(Subscription subscription) throws Exception;
    }

    private LagCheck() {}

    public static void lagCountsEventsNotYetApplied(Transport transport, String topic, String group, int n,
                                                   Duration timeout, Ready ready) throws Exception {
        lagCountsEventsNotYetApplied(transport, () -> transport.publisher(topic), topic, group, n, timeout, ready);
    }

    /** As above, publishing through {@code publisher} (a transport that only reads, such as the HTTP feed). */
    public static void lagCountsEventsNotYetApplied(Transport transport, java.util.concurrent.Callable<Publisher> publisher,
                                                   String topic, String group, int n, Duration timeout, Ready ready)
            throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger applied = new AtomicInteger();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Dispatcher dispatcher = Dispatcher.builder(group)
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .handlers(HandlerRegistry.builder().on(StringValue.class, (payload, ctx) -> {
                    if (!release.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("the test never released the handler");
                    }
                    applied.incrementAndGet();
                    return Outcome.applied();
                }, HandlerOptions.custom().timeout(timeout.multipliedBy(2)).build()).build())
                .lanes(1).maxInFlight(1).meterRegistry(meters)
                .build();
        try (dispatcher; Subscription subscription = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher)) {
            ready.await(subscription);
            try (Publisher p = publisher.call()) {
                TestEvents.sendAll(p, TestEvents.events(5, 1, n / 5), timeout);
            }

            await().atMost(timeout).untilAsserted(() -> {
                CopyLag lag = dispatcher.lag();
                assertThat(lag.fromTransport()).as("the transport tells its lag").isTrue();
                assertThat(lag.events()).isEqualTo(n);
                assertThat(meters.get("eventsync.copy.lag").tag("subscription", group).gauge().value()).isEqualTo(n);
            });
            assertThat(applied.get()).isZero();

            release.countDown();
            await().atMost(timeout).until(() -> applied.get() == n);
            await().atMost(timeout).untilAsserted(() -> {
                assertThat(dispatcher.lag().events()).isZero();
                assertThat(meters.get("eventsync.copy.lag").tag("subscription", group).gauge().value()).isZero();
            });
        }
    }
}
