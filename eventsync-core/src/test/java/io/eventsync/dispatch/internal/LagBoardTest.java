package io.eventsync.dispatch.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.dispatch.CopyLag;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class LagBoardTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final AckTracker acks = new AckTracker(d -> {});
    private final LagBoard board = new LagBoard("orders-copy", Clock.systemUTC(), meters, acks);

    @Test
    void withoutATransportThatTellsOnlyTheDeliveriesHeldCount() {
        acks.register(delivery("p0", 0));
        acks.register(delivery("p0", 1));
        acks.register(delivery("p1", 0));

        CopyLag lag = board.sample();
        assertThat(lag.fromTransport()).isFalse();
        assertThat(lag.byPartition()).containsExactlyInAnyOrderEntriesOf(Map.of("p0", 2L, "p1", 1L));
        assertThat(gauge()).isEqualTo(3.0);
    }

    @Test
    void theTransportsFigureCountsButNeverBelowWhatIsHeld() {
        acks.register(delivery("p0", 0));
        acks.register(delivery("p0", 1));
        board.watch(subscription(() -> Optional.of(Map.of("p0", 1L, "p1", 40L))));

        CopyLag lag = board.sample();
        assertThat(lag.fromTransport()).isTrue();
        assertThat(lag.byPartition()).containsExactlyInAnyOrderEntriesOf(Map.of("p0", 2L, "p1", 40L));
        assertThat(lag.events()).isEqualTo(42);
        assertThat(board.of("p1")).isEqualTo(40L);
        assertThat(board.of("p9")).isNull();
    }

    @Test
    void aTransportThatFailsIsTreatedAsOneThatCannotTell() {
        acks.register(delivery("p0", 0));
        board.watch(subscription(() -> {
            throw new IllegalStateException("broker gone");
        }));

        CopyLag lag = board.sample();
        assertThat(lag.fromTransport()).isFalse();
        assertThat(lag.events()).isEqualTo(1);
    }

    @Test
    void closeRemovesTheGauge() {
        board.close();
        assertThat(meters.find("eventsync.copy.lag").gauge()).isNull();
    }

    private double gauge() {
        return meters.get("eventsync.copy.lag").tag("subscription", "orders-copy").gauge().value();
    }

    private static Subscription subscription(Supplier<Optional<Map<String, Long>>> lag) {
        return new Subscription() {
            @Override public SubscriptionSpec spec() { return SubscriptionSpec.fanout("orders", "orders-copy"); }
            @Override public Optional<Map<String, Long>> lag() { return lag.get(); }
            @Override public void close() {}
        };
    }

    private static Delivery delivery(String partition, long offset) {
        return new Delivery() {
            @Override public String partition() { return partition; }
            @Override public long offset() { return offset; }
            @Override public byte[] bytes() { return new byte[0]; }
            @Override public int deliveryCount() { return 1; }
            @Override public void ack() {}
        };
    }
}
