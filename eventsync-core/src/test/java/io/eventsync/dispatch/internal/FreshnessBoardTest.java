package io.eventsync.dispatch.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.PartitionFreshness;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class FreshnessBoardTest {
    private static final Instant START = Instant.parse("2026-12-03T12:00:00Z");
    private final MovableClock clock = new MovableClock(START);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final FreshnessBoard board = new FreshnessBoard("orders-copy", clock, meters);

    @Test
    void aPartitionStuckBeforeItsFirstHeartbeatAgesFromWhenItWasFirstSeen() {
        board.delivered("orders", "p0", true);
        board.applied(beat("orders", START), "p0");
        board.delivered("orders", "p1", false); // its first event never completes: no heartbeat behind it applies

        clock.advance(Duration.ofSeconds(40));
        board.delivered("orders", "p0", true);
        board.applied(beat("orders", clock.instant().minusSeconds(1)), "p0");

        CopyFreshness f = board.snapshot().get("orders");
        assertThat(f.freshness()).isEqualTo(Duration.ofSeconds(40));
        assertThat(f.sourceTime()).isEqualTo(START);
        assertThat(f.partitions()).isEqualTo(2);
        assertThat(f.awaitingHeartbeat()).isEqualTo(1);
        assertThat(f.byPartition()).containsExactly(
                new PartitionFreshness("p0", clock.instant().minusSeconds(1), clock.instant(), null),
                new PartitionFreshness("p1", START, null, null));
        assertThat(gauge()).isEqualTo(40.0);
    }

    @Test
    void itsFirstHeartbeatReplacesTheTimeAPartitionWasFirstSeen() {
        board.delivered("orders", "p0", true);
        board.delivered("orders", "p1", false);
        clock.advance(Duration.ofSeconds(30));

        board.applied(beat("orders", clock.instant().minusSeconds(2)), "p1");
        board.applied(beat("orders", clock.instant().minusSeconds(3)), "p0");

        CopyFreshness f = board.snapshot().get("orders");
        assertThat(f.freshness()).isEqualTo(Duration.ofSeconds(3));
        assertThat(f.awaitingHeartbeat()).isZero();
    }

    @Test
    void aSourceThatSendsNoHeartbeatsIsNotJudged() {
        board.delivered("billing", "p0", false);
        clock.advance(Duration.ofHours(1));

        assertThat(board.snapshot()).isEmpty();
        assertThat(board.changed()).isEmpty();
        assertThat(meters.find("eventsync.copy.freshness").gauge()).isNull();
    }

    @Test
    void partitionsSeenBeforeTheSourcesFirstHeartbeatCountOnceItArrives() {
        board.delivered("orders", "p1", false);
        clock.advance(Duration.ofSeconds(20));
        board.delivered("orders", "p0", true); // delivered, not yet applied

        CopyFreshness f = board.snapshot().get("orders");
        assertThat(f.freshness()).isEqualTo(Duration.ofSeconds(20));
        assertThat(f.lastApplied()).isNull();
        assertThat(f.awaitingHeartbeat()).isEqualTo(2);
        assertThat(board.changed()).extracting(CopyFreshness::source).containsExactly("orders");
    }

    @Test
    void releasedPartitionsStopCountingWhetherOrNotTheyHadAHeartbeat() {
        board.delivered("orders", "p0", true);
        board.applied(beat("orders", START), "p0");
        board.delivered("orders", "p1", false);
        board.delivered("orders", "p2", false);
        clock.advance(Duration.ofSeconds(60));
        board.applied(beat("orders", clock.instant()), "p0");

        board.release(List.of("p1", "p2"));

        assertThat(board.snapshot().get("orders").freshness()).isZero();
        assertThat(board.snapshot().get("orders").byPartition()).extracting(PartitionFreshness::partition)
                .containsExactly("p0");
    }

    @Test
    void anOlderRedeliveredHeartbeatNeverMovesAPartitionBack() {
        board.delivered("orders", "p0", true);
        board.applied(beat("orders", START.plusSeconds(10)), "p0");
        board.applied(beat("orders", START.plusSeconds(5)), "p0");
        clock.advance(Duration.ofSeconds(12));

        assertThat(board.snapshot().get("orders").freshness()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void changedReportsASourceOncePerChange() {
        board.delivered("orders", "p0", true);
        board.applied(beat("orders", START), "p0");

        assertThat(board.changed()).hasSize(1);
        assertThat(board.changed()).isEmpty();
        board.delivered("orders", "p0", false); // nothing new
        assertThat(board.changed()).isEmpty();
        board.delivered("orders", "p1", false); // a partition first seen
        assertThat(board.changed()).singleElement().satisfies(f -> assertThat(f.awaitingHeartbeat()).isEqualTo(1));
    }

    @Test
    void closeRemovesTheGauge() {
        board.delivered("orders", "p0", true);
        board.close();
        assertThat(meters.find("eventsync.copy.freshness").gauge()).isNull();
    }

    private double gauge() {
        return meters.get("eventsync.copy.freshness").tag("subscription", "orders-copy").tag("source", "orders")
                .gauge().value();
    }

    private static Heartbeat beat(String source, Instant time) {
        return Heartbeat.newBuilder().setSource(source)
                .setTime(Timestamp.newBuilder().setSeconds(time.getEpochSecond()).setNanos(time.getNano())).build();
    }

    /** A clock the test moves by hand. */
    private static final class MovableClock extends Clock {
        private volatile Instant now;

        MovableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }
}
