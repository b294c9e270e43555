package io.eventsync.handler;

import io.eventsync.PermanentException;
import io.eventsync.dispatch.DeadLetter;
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
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dispatcher's invariants under random keys, partitions, lanes, interleavings (one feeding thread
 * per partition) and random handler behaviour: per-key order, and acknowledgement only of done events,
 * once, in offset order.
 *
 * <p>Each case starts a dispatcher with its own threads, so the cases come from {@link SeededTrials}
 * rather than a generator library: a failure names the seed and the smallest failing case, and
 * {@code -Deventsync.seed=<seed>} replays the case (its events and the handler's choices; the
 * interleaving of threads is the one thing a replay cannot repeat).
 */
class DispatcherPropertiesTest {

    /** What the handler does on one attempt, chosen per event and attempt from the case's seed. */
    enum Act { APPLY, THROW_TRANSIENT, RETRY_AFTER, SKIP, REJECT, THROW_PERMANENT }

    /**
     * One case: the key of each event in delivery order (its step is its rank within its key), how
     * many partitions they are spread over, how many lanes, and the seed of the handler's choices.
     */
    record Case(List<Integer> keyOfEachEvent, int partitions, int lanes, long behaviour) {}

    @Test
    void perKeyOrderHoldsUnderRandomInterleavingsTransientFailuresAndRetries() {
        trials(120, 8).check(this::perKeyOrderHolds);
    }

    @Test
    void nothingIsAcknowledgedBeforeItIsAppliedSkippedOrDeadLetteredAndReplayReleasesParkedKeysInOrder() {
        trials(100, 6).check(this::nothingIsAcknowledgedEarlyAndReplayReleasesInOrder);
    }

    private void perKeyOrderHolds(Case testCase) throws Exception {
        List<Integer> keyOfEachEvent = testCase.keyOfEachEvent();
        long seed = testCase.behaviour();
        try (Fixture f = new Fixture()) {
            f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                Act act = act(seed, s, c.attempt(), false);
                if (act == Act.THROW_TRANSIENT) {
                    throw new IllegalStateException("transient failure on attempt " + c.attempt());
                }
                if (act == Act.RETRY_AFTER) {
                    return Outcome.retryAfter(Duration.ZERO, "not yet");
                }
                f.record(s, c.envelope());
                return Outcome.applied();
            }, options(30)).build()).lanes(testCase.lanes()));

            Map<String, Long> expected = feed(f, keyOfEachEvent, testCase.partitions());

            await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(keyOfEachEvent.size()));
            assertThat(f.acks.violations()).isEmpty();
            assertThat(f.deadLetters.list(f.subscription)).isEmpty();
            expected.forEach((key, last) -> assertThat(f.appliedSteps(key))
                    .as("steps of %s in the order they were applied", key).isEqualTo(range(last)));
        }
    }

    private void nothingIsAcknowledgedEarlyAndReplayReleasesInOrder(Case testCase) throws Exception {
        List<Integer> keyOfEachEvent = testCase.keyOfEachEvent();
        long seed = testCase.behaviour();
        try (Fixture f = new Fixture()) {
            AtomicBoolean healed = new AtomicBoolean();
            Map<String, List<Long>> skipped = new ConcurrentHashMap<>();
            f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                Act act = healed.get() ? Act.APPLY : act(seed, s, c.attempt(), true);
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
            }, options(3)).build()).lanes(testCase.lanes()));

            Map<String, Long> lastSteps = feed(f, keyOfEachEvent, testCase.partitions());

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

    /**
     * 100 cases of up to {@code maxEvents} events over keys 0 to {@code keys - 1}, 1 to 3 partitions,
     * 1 to 4 lanes.
     */
    private static SeededTrials<Case> trials(int maxEvents, int keys) {
        return new SeededTrials<>(100, random -> {
            List<Integer> keyOfEachEvent = new ArrayList<>();
            int events = 1 + random.nextInt(maxEvents);
            for (int i = 0; i < events; i++) {
                keyOfEachEvent.add(random.nextInt(keys));
            }
            return new Case(List.copyOf(keyOfEachEvent), 1 + random.nextInt(3), 1 + random.nextInt(4), random.nextLong());
        }, DispatcherPropertiesTest::simpler);
    }

    /**
     * Simpler cases, most promising first: one partition, one lane, then without a run of events
     * (halves first, down to single events), then with an event moved to key 0.
     */
    private static List<Case> simpler(Case c) {
        List<Case> out = new ArrayList<>();
        List<Integer> keys = c.keyOfEachEvent();
        if (c.partitions() > 1) {
            out.add(new Case(keys, 1, c.lanes(), c.behaviour()));
        }
        if (c.lanes() > 1) {
            out.add(new Case(keys, c.partitions(), 1, c.behaviour()));
        }
        for (int run = Math.max(1, keys.size() / 2); ; run = Math.max(1, run / 2)) {
            for (int from = 0; from < keys.size() && run < keys.size(); from += run) {
                List<Integer> fewer = new ArrayList<>(keys.subList(0, from));
                fewer.addAll(keys.subList(Math.min(keys.size(), from + run), keys.size()));
                out.add(new Case(List.copyOf(fewer), c.partitions(), c.lanes(), c.behaviour()));
            }
            if (run == 1) {
                break;
            }
        }
        for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i) != 0) {
                List<Integer> lower = new ArrayList<>(keys);
                lower.set(i, 0);
                out.add(new Case(List.copyOf(lower), c.partitions(), c.lanes(), c.behaviour()));
            }
        }
        return out;
    }

    private static HandlerOptions options(int maxAttempts) {
        return HandlerOptions.custom().retryPolicy(RetryPolicy.custom().maxAttempts(maxAttempts)
                .initialBackoff(Duration.ZERO).maxBackoff(Duration.ofMillis(2)).build()).build();
    }

    /**
     * Deterministic per (seed, key, step, attempt), so a replayed case makes the same choices: mostly
     * apply, sometimes fail.
     */
    private static Act act(long seed, Step step, int attempt, boolean permanentToo) {
        long event = step.getKey().hashCode() * 0x9E3779B97F4A7C15L + step.getStep() * 0xBF58476D1CE4E5B9L;
        int roll = new SplittableRandom(seed ^ event ^ (attempt * 0xC2B2AE3D27D4EB4FL)).nextInt(100);
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
        f.deliverConcurrently(byPartition);
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
