package io.eventsync.handler;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.test.dispatch.v1.Step;
import io.micrometer.core.instrument.DistributionSummary;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Batches under a handler that hangs on every attempt, ignoring its cancellation: one lane is held by
 * a gate event while the events of other keys queue, so that they form one batch when it opens.
 */
class DispatcherBatchTest {

    @Test
    void aHandlerThatHangsOnEveryAttemptIsDeadLetteredAndItsBatchNeighboursAreApplied() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch endOfTest = new CountDownLatch(1);
        AtomicInteger hangs = new AtomicInteger();
        try (Fixture f = new Fixture()) {
            BatchedDispatchPropertiesTest.MemoryDb db = new BatchedDispatchPropertiesTest.MemoryDb(f);
            HandlerOptions options = HandlerOptions.custom()
                    .timeout(Duration.ofMillis(50)).cancellationGrace(Duration.ofMillis(50))
                    .retryPolicy(RetryPolicy.custom().maxAttempts(3).initialBackoff(Duration.ZERO)
                            .maxBackoff(Duration.ofMillis(1)).build()).build();
            HandlerRegistry handlers = HandlerRegistry.builder()
                    .on(Step.class, (s, c) -> {
                        if (s.getKey().equals("hangs")) {
                            hangs.incrementAndGet();
                            while (endOfTest.getCount() > 0) {
                                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // ignores interrupts
                            }
                        }
                        c.resource(BatchedDispatchPropertiesTest.Tx.class).orElseThrow().writes.add(s);
                        return Outcome.applied();
                    }, options)
                    .on(StringValue.class, (v, c) -> {
                        gate.await(60, TimeUnit.SECONDS);
                        return Outcome.applied();
                    }, HandlerOptions.custom().timeout(Duration.ofSeconds(60)).build())
                    .build();
            f.start(f.builder(handlers).types(TypeRegistry.builder().add(Step.getDefaultInstance())
                    .add(StringValue.getDefaultInstance()).build()).applyScope(db).lanes(1));
            try {
                f.deliver("p0", Events.create("test", "gate", 1, StringValue.of("gate")));
                f.deliver("p0", event("hangs", 1));
                f.deliver("p0", event("fine-1", 1));
                f.deliver("p0", event("fine-2", 1));
                f.deliver("p0", event("fine-1", 2));
                gate.countDown();

                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(5));
                assertThat(f.acks.violations()).isEmpty();
                assertThat(f.appliedSteps("fine-1")).containsExactly(1L, 2L);
                assertThat(f.appliedSteps("fine-2")).containsExactly(1L);
                assertThat(f.appliedSteps("hangs")).isEmpty();
                DeadLetter letter = f.deadLetters.byKey(f.subscription, "hangs").get(0);
                assertThat(letter.kind()).isEqualTo(DeadLetter.Kind.FAILED);
                assertThat(letter.attempts()).isEqualTo(3);
                assertThat(hangs.get()).as("one handler run per attempt: the batch's did not count twice").isEqualTo(3);
                assertThat(f.counter("eventsync.dispatcher.abandoned")).isEqualTo(3);
            } finally {
                endOfTest.countDown();
            }
        }
    }

    /**
     * Two lanes, one turn: the runner of a handler that hangs on every attempt holds the only turn when it
     * is abandoned, and gives it back; otherwise nothing on either lane would ever run again.
     */
    @Test
    void anAbandonedRunnerGivesItsTurnBack() throws Exception {
        CountDownLatch endOfTest = new CountDownLatch(1);
        List<String> others = keysOnLane(1 - laneOf("hangs", 2), 2, 3, "other-");
        List<String> neighbours = keysOnLane(laneOf("hangs", 2), 2, 3, "neighbour-");
        try (Fixture f = new Fixture()) {
            BatchedDispatchPropertiesTest.MemoryDb db = new BatchedDispatchPropertiesTest.MemoryDb(f);
            HandlerOptions options = HandlerOptions.custom()
                    .timeout(Duration.ofMillis(50)).cancellationGrace(Duration.ofMillis(50))
                    .retryPolicy(RetryPolicy.custom().maxAttempts(3).initialBackoff(Duration.ZERO)
                            .maxBackoff(Duration.ofMillis(1)).build()).build();
            HandlerRegistry handlers = HandlerRegistry.builder()
                    .on(Step.class, (s, c) -> {
                        if (s.getKey().equals("hangs")) {
                            while (endOfTest.getCount() > 0) {
                                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // ignores interrupts
                            }
                        }
                        c.resource(BatchedDispatchPropertiesTest.Tx.class).orElseThrow().writes.add(s);
                        return Outcome.applied();
                    }, options)
                    .build();
            f.start(f.builder(handlers).applyScope(db).lanes(2).applyConcurrency(1));
            try {
                f.deliver("p0", event("hangs", 1));
                for (String key : others) {
                    f.deliver("p0", event(key, 1));
                }
                for (String key : neighbours) {
                    f.deliver("p0", event(key, 1));
                }

                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(7));
                assertThat(f.acks.violations()).isEmpty();
                for (String key : others) {
                    assertThat(f.appliedSteps(key)).as(key).containsExactly(1L);
                }
                for (String key : neighbours) {
                    assertThat(f.appliedSteps(key)).as(key).containsExactly(1L);
                }
                assertThat(f.deadLetters.byKey(f.subscription, "hangs").get(0).attempts()).isEqualTo(3);
                assertThat(f.counter("eventsync.dispatcher.abandoned")).isEqualTo(3);
            } finally {
                endOfTest.countDown();
            }
        }
    }

    /**
     * Two lanes, one turn: while one lane's handler holds the turn, the other lane cannot start; the events
     * that reach it meanwhile all go into its first batch when it gets the turn (not one transaction each).
     */
    @Test
    void aLaneWaitingForItsTurnAppliesWhatArrivedMeanwhileInOneBatch() throws Exception {
        CountDownLatch gateEntered = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        String gateKey = "gate";
        List<String> waiting = keysOnLane(1 - laneOf(gateKey, 2), 2, 12, "waits-");
        try (Fixture f = new Fixture()) {
            BatchedDispatchPropertiesTest.MemoryDb db = new BatchedDispatchPropertiesTest.MemoryDb(f);
            HandlerRegistry handlers = HandlerRegistry.builder()
                    .on(Step.class, (s, c) -> {
                        c.resource(BatchedDispatchPropertiesTest.Tx.class).orElseThrow().writes.add(s);
                        return Outcome.applied();
                    }, HandlerOptions.defaults())
                    .on(StringValue.class, (v, c) -> {
                        gateEntered.countDown();
                        gate.await(60, TimeUnit.SECONDS);
                        return Outcome.applied();
                    }, HandlerOptions.custom().timeout(Duration.ofSeconds(60)).build())
                    .build();
            f.start(f.builder(handlers).types(TypeRegistry.builder().add(Step.getDefaultInstance())
                    .add(StringValue.getDefaultInstance()).build()).applyScope(db).lanes(2).applyConcurrency(1));
            f.deliver("p0", Events.create("test", gateKey, 1, StringValue.of("gate")));
            assertThat(gateEntered.await(60, TimeUnit.SECONDS)).isTrue();
            for (String key : waiting) {
                f.deliver("p0", event(key, 1));
            }
            assertThat(f.acks.acks()).as("nothing of the other lane ran while the only turn was held").isZero();
            gate.countDown();

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(13));
            assertThat(f.acks.violations()).isEmpty();
            DistributionSummary sizes = f.meters.find("eventsync.dispatcher.batch.size").summary();
            assertThat(sizes.count()).as("the waiting lane's events in one batch").isEqualTo(1);
            assertThat(sizes.max()).isEqualTo(waiting.size());
        }
    }

    /** The lane the dispatcher hashes {@code key} to (DispatchEngine.laneOf). */
    private static int laneOf(String key, int lanes) {
        int h = key.hashCode();
        return Math.floorMod(h ^ (h >>> 16), lanes);
    }

    private static List<String> keysOnLane(int lane, int lanes, int n, String prefix) {
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.size() < n; i++) {
            if (laneOf(prefix + i, lanes) == lane) {
                keys.add(prefix + i);
            }
        }
        return keys;
    }
}
