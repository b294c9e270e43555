package io.eventsync.handler;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.CopyHealth;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.v1.Envelope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class DispatcherHeartbeatTest {
    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private final Fixture fx = new Fixture();

    @AfterEach
    void close() {
        fx.close();
    }

    private HandlerRegistry applying() {
        return HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            fx.record(step, ctx.envelope());
            return Outcome.applied();
        }, Fixture.fast()).build();
    }

    private void heartbeat(String partition, Instant sourceTime) throws InterruptedException {
        Envelope beat = Heartbeats.create("orders", sourceTime, 7);
        fx.dispatcher.onDelivery(fx.acks.next(partition, null, Fixture.CODEC.encode(beat)));
    }

    @Test
    void aHeartbeatNeedsNoHandlerAndIsNeitherAppliedNorDeadLettered() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        heartbeat("p0", NOW.minusSeconds(2));

        await().until(() -> fx.dispatcher.freshness().containsKey("orders"));
        CopyFreshness f = fx.dispatcher.freshness().get("orders");
        assertThat(f.freshness()).isEqualTo(Duration.ofSeconds(2));
        assertThat(f.sourceTime()).isEqualTo(NOW.minusSeconds(2));
        assertThat(f.subscription()).isEqualTo(fx.subscription);
        assertThat(f.partitions()).isEqualTo(1);
        assertThat(fx.acks.acked("p0", 0)).isTrue();
        assertThat(fx.counter("eventsync.dispatcher.applied")).isZero();
        assertThat(fx.counter("eventsync.dispatcher.dead_lettered")).isZero();
        assertThat(fx.deadLetters.list(fx.subscription)).isEmpty();
        assertThat(fx.acks.violations()).isEmpty();
    }

    @Test
    void freshnessIsThatOfTheOldestPartitionAndTheGaugeShowsIt() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        heartbeat("p0", NOW.minusSeconds(10));
        heartbeat("p1", NOW.minusSeconds(3));
        await().until(() -> fx.dispatcher.freshness().getOrDefault("orders", none()).partitions() == 2);

        assertThat(fx.dispatcher.freshness().get("orders").freshness()).isEqualTo(Duration.ofSeconds(10));
        assertThat(gauge()).isEqualTo(10.0);

        heartbeat("p0", NOW.minusSeconds(1));
        await().until(() -> fx.dispatcher.freshness().get("orders").freshness().equals(Duration.ofSeconds(3)));
        assertThat(gauge()).isEqualTo(3.0);
    }

    @Test
    void aPartitionGivenToAnotherConsumerNoLongerCounts() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        heartbeat("p0", NOW.minusSeconds(40)); // its last heartbeat here, before a rebalance moved it
        heartbeat("p1", NOW.minusSeconds(2));
        await().until(() -> fx.dispatcher.freshness().getOrDefault("orders", none()).partitions() == 2);
        assertThat(fx.dispatcher.freshness().get("orders").freshness()).isEqualTo(Duration.ofSeconds(40));

        fx.dispatcher.onPartitionsReleased(List.of("p0"));

        CopyFreshness after = fx.dispatcher.freshness().get("orders");
        assertThat(after.partitions()).isEqualTo(1);
        assertThat(after.freshness()).isEqualTo(Duration.ofSeconds(2));
        assertThat(fx.dispatcher.health(Duration.ofSeconds(30)).healthy()).isTrue();
    }

    @Test
    void aHeartbeatFromTheFutureIsIgnored() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        heartbeat("p0", NOW.minusSeconds(20));
        heartbeat("p0", NOW.plus(Duration.ofDays(365))); // forged or broken: would pin freshness at zero
        await().until(() -> fx.acks.acked("p0", 1));

        assertThat(fx.dispatcher.freshness().get("orders").freshness()).isEqualTo(Duration.ofSeconds(20));
    }

    @Test
    void aRedeliveredOlderHeartbeatDoesNotMoveFreshnessBack() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        heartbeat("p0", NOW.minusSeconds(1));
        heartbeat("p0", NOW.minusSeconds(30));
        await().until(() -> fx.acks.acked("p0", 1));

        assertThat(fx.dispatcher.freshness().get("orders").freshness()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aHeartbeatBehindAnUnfinishedEventOfItsPartitionIsRecordedOnlyWhenThatEventIsDone() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HandlerRegistry blocking = HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            release.await(30, TimeUnit.SECONDS);
            fx.record(step, ctx.envelope());
            return Outcome.applied();
        }, Fixture.fast()).build();
        fx.start(fx.builder(blocking).clock(Clock.fixed(NOW, ZoneOffset.UTC)));

        fx.deliver("p0", event("a", 1));
        heartbeat("p0", NOW.minusSeconds(5));
        heartbeat("p1", NOW.minusSeconds(1)); // nothing ahead of it: recorded at once
        await().until(() -> fx.dispatcher.freshness().containsKey("orders"));

        CopyFreshness before = fx.dispatcher.freshness().get("orders");
        // p0 counts from when it was first seen (now, on this fixed clock) until its heartbeat is applied
        assertThat(before.partitions()).isEqualTo(2);
        assertThat(before.awaitingHeartbeat()).isEqualTo(1);
        assertThat(before.freshness()).isEqualTo(Duration.ofSeconds(1));
        assertThat(fx.acks.acked("p0", 1)).isFalse();

        release.countDown();
        await().until(() -> fx.dispatcher.freshness().get("orders").awaitingHeartbeat() == 0);
        assertThat(fx.dispatcher.freshness().get("orders").freshness()).isEqualTo(Duration.ofSeconds(5));
        assertThat(fx.appliedSteps("a")).containsExactly(1L);
        assertThat(fx.acks.violations()).isEmpty();
    }

    @Test
    void healthTurnsUnhealthyWhenFreshnessPassesTheThreshold() throws Exception {
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)));
        assertThat(fx.dispatcher.health(Duration.ofSeconds(5)).healthy()).isTrue();

        heartbeat("p0", NOW.minusSeconds(60));
        await().until(() -> fx.dispatcher.freshness().containsKey("orders"));

        CopyHealth health = fx.dispatcher.health(Duration.ofSeconds(5));
        assertThat(health.healthy()).isFalse();
        assertThat(health.reasons()).singleElement().asString().contains("source orders", "60000 ms");
        assertThat(fx.dispatcher.health(Duration.ofMinutes(2)).healthy()).isTrue();
    }

    @Test
    void aPartitionWithABacklogThatMakesNoProgressIsUnhealthy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HandlerRegistry blocking = HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            release.await(30, TimeUnit.SECONDS);
            fx.record(step, ctx.envelope());
            return Outcome.applied();
        }, Fixture.fast()).build();
        fx.start(fx.builder(blocking));

        fx.deliver("p3", event("a", 1));
        fx.deliver("p3", event("b", 1));

        await().until(() -> !fx.dispatcher.health(Duration.ofMillis(1)).healthy());
        assertThat(fx.dispatcher.health(Duration.ofMillis(1)).reasons()).singleElement().asString()
                .contains("partition p3 has 2 deliveries waiting");
        release.countDown();
        await().until(() -> fx.dispatcher.inFlight() == 0);
        assertThat(fx.dispatcher.health(Duration.ofMillis(1)).healthy()).isTrue();
    }

    @Test
    void aSubscriptionThatReportsItStoppedMakesHealthSayWhyUntilItRecovers() {
        fx.start(fx.builder(applying()));
        io.eventsync.transport.SubscriptionSpec spec = io.eventsync.transport.SubscriptionSpec.fanout("orders", "billing");

        fx.dispatcher.onSubscriptionFailed(spec, new io.eventsync.EventsyncException("feed orders no longer holds position 7"));

        CopyHealth health = fx.dispatcher.health(Duration.ofMinutes(1));
        assertThat(health.healthy()).isFalse();
        assertThat(health.reasons()).singleElement().asString()
                .isEqualTo("subscription orders/billing stopped: feed orders no longer holds position 7");
        fx.dispatcher.onSubscriptionRecovered(spec);
        assertThat(fx.dispatcher.health(Duration.ofMinutes(1)).healthy()).isTrue();
    }

    @Test
    void theListenerReceivesFreshnessAfterAHeartbeat() throws Exception {
        List<CopyFreshness> received = new CopyOnWriteArrayList<>();
        fx.start(fx.builder(applying()).clock(Clock.fixed(NOW, ZoneOffset.UTC)).freshnessListener(received::add));

        heartbeat("p0", NOW.minusSeconds(4));

        await().until(() -> !received.isEmpty());
        assertThat(received.get(0).source()).isEqualTo("orders");
        assertThat(received.get(0).sourceTime()).isEqualTo(NOW.minusSeconds(4));
    }

    private double gauge() {
        return fx.meters.get("eventsync.copy.freshness").tag("subscription", fx.subscription).tag("source", "orders")
                .gauge().value();
    }

    private static CopyFreshness none() {
        return new CopyFreshness("-", "-", Duration.ZERO, NOW, NOW, 0, List.of());
    }
}
