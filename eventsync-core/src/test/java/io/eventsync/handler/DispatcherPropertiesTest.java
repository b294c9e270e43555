package io.eventsync.handler;

import static io.eventsync.handler.Fixture.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.PermanentException;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The dispatcher's invariants under random keys, partitions, lanes, interleavings (one feeding thread
 * per partition) and random handler behaviour: per-key order, and acknowledgement only of done events,
 * once, in offset order.
 */
class DispatcherPropertiesTest {

    /** What the handler does on one attempt, chosen per event and attempt from a seed. */
    enum Act { APPLY, THROW_TRANSIENT, RETRY_AFTER, SKIP, REJECT, THROW_PERMANENT }

    @Property(tries = 100)
    void perKeyOrderHoldsUnderRandomInterleavingsTransientFailuresAndRetries(
            @ForAll @Size(min = 1, max = 120) List<@IntRange(min = 0, max = 7) Integer> keyOfEachEvent,
            @ForAll @IntRange(min = 1, max = 3) int partitions,
            @ForAll @IntRange(min = 1, max = 4) int lanes,
            @ForAll long seed) throws Exception {
        try (Fixture f = new Fixture()) {
            f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                Act act = act(seed, c.envelope().getId(), c.attempt(), false);
                if (act == Act.THROW_TRANSIENT) {
                    throw new IllegalStateException("transient failure on attempt " + c.attempt());
                }
                if (act == Act.RETRY_AFTER) {
                    return Outcome.retryAfter(Duration.ZERO, "not yet");
                }
                f.record(s, c.envelope());
                return Outcome.applied();
            }, options(30)).build()).lanes(lanes));

            Map<String, Long> expected = feed(f, keyOfEachEvent, partitions);

            await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(keyOfEachEvent.size()));
            assertThat(f.acks.violations()).isEmpty();
            assertThat(f.deadLetters.list(f.subscription)).isEmpty();
            expected.forEach((key, last) -> assertThat(f.appliedSteps(key))
                    .as("steps of %s in the order they were applied", key).isEqualTo(range(last)));
        }
    }

    @Property(tries = 100)
    void nothingIsAcknowledgedBeforeItIsAppliedSkippedOrDeadLetteredAndReplayReleasesParkedKeysInOrder(
            @ForAll @Size(min = 1, max = 100) List<@IntRange(min = 0, max = 5) Integer> keyOfEachEvent,
            @ForAll @IntRange(min = 1, max = 3) int partitions,
            @ForAll @IntRange(min = 1, max = 4) int lanes,
            @ForAll long seed) throws Exception {
        try (Fixture f = new Fixture()) {
            AtomicBoolean healed = new AtomicBoolean();
            Map<String, List<Long>> skipped = new ConcurrentHashMap<>();
            f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                Act act = healed.get() ? Act.APPLY : act(seed, c.envelope().getId(), c.attempt(), true);
                switch (act) {
                    case THROW_TRANSIENT -> throw new IllegalStateException("transient failure");
                    case RETRY_AFTER -> {
                        return Outcome.retryAfter(Duration.ZERO, "not yet");
                    }
                    case REJECT -> {
                        return Outcome.reject("rejected");
                    }
                    case THROW_PERMANENT -> throw new PermanentException("permanent failure");
                    case SKIP -> {
                        f.appliedIds.add(c.envelope().getId());
                        skipped.computeIfAbsent(s.getKey(), k -> new CopyOnWriteArrayList<>()).add(s.getStep());
                        return Outcome.skipped("stale");
                    }
                    default -> {
                        f.record(s, c.envelope());
                        return Outcome.applied();
                    }
                }
            }, options(3)).build()).lanes(lanes));

            Map<String, Long> lastSteps = feed(f, keyOfEachEvent, partitions);

            await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(keyOfEachEvent.size()));
            assertThat(f.acks.violations()).isEmpty();
            for (String key : f.deadLetters.keys(f.subscription)) {
                List<DeadLetter> letters = f.deadLetters.byKey(f.subscription, key);
                assertThat(letters.get(0).kind()).isEqualTo(DeadLetter.Kind.FAILED);
                assertThat(letters.subList(1, letters.size())).allMatch(l -> l.kind() == DeadLetter.Kind.HELD);
                long failedStep = stepOf(letters.get(0));
                assertThat(f.appliedSteps(key)).as("applied after the key was parked").allMatch(step -> step < failedStep);
                List<Long> heldSteps = letters.stream().map(DeadLetterPropertiesSupport::step).toList();
                assertThat(heldSteps).as("letters of %s in order", key).isSorted();
            }

            // Once the handler is fixed, replaying each key's FAILED letter releases everything in order.
            healed.set(true);
            for (String key : f.deadLetters.keys(f.subscription)) {
                DeadLetter failed = f.deadLetters.byKey(f.subscription, key).get(0);
                assertThat(f.dispatcher.replay(failed.id()).get(20, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(f.deadLetters.list(f.subscription)).isEmpty();
            assertThat(f.dispatcher.parkedKeys()).isEmpty();
            lastSteps.forEach((key, last) -> {
                List<Long> applied = f.appliedSteps(key);
                assertThat(applied).as("applied steps of %s", key).isSorted().doesNotHaveDuplicates();
                List<Long> all = new ArrayList<>(applied);
                all.addAll(skipped.getOrDefault(key, List.of()));
                assertThat(all).as("applied or skipped steps of %s", key).containsExactlyInAnyOrderElementsOf(range(last));
            });
        }
    }

    private static HandlerOptions options(int maxAttempts) {
        return HandlerOptions.custom().retryPolicy(RetryPolicy.custom().maxAttempts(maxAttempts)
                .initialBackoff(Duration.ZERO).maxBackoff(Duration.ofMillis(2)).build()).build();
    }

    /** Deterministic per (seed, event, attempt): mostly apply; failures are rarer on later attempts. */
    private static Act act(long seed, String eventId, int attempt, boolean permanentToo) {
        int roll = new SplittableRandom(seed ^ (eventId.hashCode() * 0x9E3779B97F4A7C15L) ^ (attempt * 0xC2B2AE3D27D4EB4FL)).nextInt(100);
        if (roll < 20) {
            return Act.THROW_TRANSIENT;
        }
        if (roll < 30) {
            return Act.RETRY_AFTER;
        }
        if (permanentToo) {
            if (roll < 35) {
                return Act.REJECT;
            }
            if (roll < 40) {
                return Act.THROW_PERMANENT;
            }
            if (roll < 45) {
                return Act.SKIP;
            }
        }
        return Act.APPLY;
    }

    /** Delivers the events, one feeding thread per partition; returns the last step of each key. */
    private static Map<String, Long> feed(Fixture f, List<Integer> keyOfEachEvent, int partitions) throws Exception {
        Map<String, Long> steps = new HashMap<>();
        Map<Integer, List<Envelope>> byPartition = new HashMap<>();
        for (int k : keyOfEachEvent) {
            String key = "key-" + k;
            long step = steps.merge(key, 1L, Long::sum);
            byPartition.computeIfAbsent(k % partitions, p -> new ArrayList<>()).add(event(key, step));
        }
        List<Thread> feeders = new ArrayList<>();
        Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
        byPartition.forEach((p, events) -> feeders.add(new Thread(() -> {
            try {
                for (Envelope e : events) {
                    f.deliver("p" + p, e);
                }
            } catch (Throwable t) {
                failures.put(p, t);
            }
        }, "test-feeder-" + p)));
        feeders.forEach(Thread::start);
        for (Thread t : feeders) {
            t.join();
        }
        assertThat(failures).isEmpty();
        return steps;
    }

    private static List<Long> range(long last) {
        List<Long> out = new ArrayList<>();
        for (long i = 1; i <= last; i++) {
            out.add(i);
        }
        return out;
    }

    private static long stepOf(DeadLetter letter) {
        return DeadLetterPropertiesSupport.step(letter);
    }

    /** Reads the step back out of a letter's bytes. */
    static final class DeadLetterPropertiesSupport {
        static long step(DeadLetter letter) {
            try {
                return Fixture.CODEC.decode(letter.bytes()).getPayload().unpack(Step.class).getStep();
            } catch (Exception e) {
                throw new AssertionError("dead letter bytes are not the event received", e);
            }
        }
    }
}
