package io.eventsync.handler;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Invocation;
import io.eventsync.dispatch.KeyParkedException;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dispatcher's guarantees with batching on, over random cases: events of distinct keys ready at
 * once go to an all-or-nothing scope together, while handlers throw, ask to retry, reject, skip, hang
 * past their grace period (abandoned), and events are delivered twice. Whatever the mix, per key the
 * committed steps are in order and each event commits at most once, an event is acknowledged only once
 * it committed or is a dead letter, and a parked key commits nothing after its failed event.
 *
 * <p>The scope is an in-memory database with transactions: a handler writes into the transaction bound
 * to its invocation, and only a commit makes the writes (and the inbox row) visible.
 */
class BatchedDispatchPropertiesTest {
    private static final AtomicLong BATCHED_EVENTS = new AtomicLong();
    private static final AtomicLong FALLBACKS = new AtomicLong();

    enum Act { APPLY, THROW_TRANSIENT, RETRY_AFTER, SKIP, REJECT, THROW_PERMANENT, HANG }

    /** The key of each event in delivery order, which events are delivered twice, partitions, lanes, seed. */
    record Case(List<Integer> keyOfEachEvent, Set<Integer> redelivered, int partitions, int lanes, long behaviour) {}

    @Test
    void batchesKeepEveryPerEventGuarantee() {
        new SeededTrials<>(60, random -> {
            List<Integer> keys = new ArrayList<>();
            java.util.Set<Integer> again = new java.util.HashSet<>();
            int events = 1 + random.nextInt(200);
            for (int i = 0; i < events; i++) {
                keys.add(random.nextInt(12));
                if (random.nextInt(10) == 0) {
                    again.add(i);
                }
            }
            return new Case(List.copyOf(keys), Set.copyOf(again), 1 + random.nextInt(3), 1 + random.nextInt(3),
                    random.nextLong());
        }, BatchedDispatchPropertiesTest::simpler).check(this::guaranteesHold);
    }

    @AfterAll
    static void batchesReallyHappened() {
        // Without this the property could pass with every event applied alone.
        assertThat(BATCHED_EVENTS.get()).as("events committed in batches over all cases").isPositive();
        assertThat(FALLBACKS.get()).as("batches that fell back to single events over all cases").isPositive();
    }

    private void guaranteesHold(Case testCase) throws Exception {
        long seed = testCase.behaviour();
        try (Fixture f = new Fixture()) {
            MemoryDb db = new MemoryDb(f);
            HandlerOptions options = HandlerOptions.custom()
                    .timeout(Duration.ofMillis(40)).cancellationGrace(Duration.ofMillis(20))
                    .retryPolicy(RetryPolicy.custom().maxAttempts(3).initialBackoff(Duration.ZERO)
                            .maxBackoff(Duration.ofMillis(2)).build()).build();
            f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                Tx tx = c.resource(Tx.class).orElseThrow();
                switch (act(seed, s, c.attempt())) {
                    case THROW_TRANSIENT -> throw new IllegalStateException("transient failure");
                    case RETRY_AFTER -> {
                        return Outcome.retryAfter(Duration.ZERO, "not yet");
                    }
                    case REJECT -> {
                        return Outcome.reject("rejected");
                    }
                    case THROW_PERMANENT -> throw new PermanentException("permanent failure");
                    case SKIP -> {
                        return Outcome.skipped("stale");
                    }
                    case HANG -> {
                        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(150);
                        while (System.nanoTime() < until) {
                            LockSupport.parkNanos(until - System.nanoTime()); // ignores interrupts and the token
                        }
                        tx.writes.add(s);
                        return Outcome.applied();
                    }
                    default -> {
                        tx.writes.add(s);
                        return Outcome.applied();
                    }
                }
            }, options).build()).lanes(testCase.lanes()).applyScope(db).maxBatch(8)
                    // Fewer turns than lanes in most cases: lanes wait for each other, abandoned runners hand theirs on.
                    .applyConcurrency(1 + (int) Math.floorMod(testCase.behaviour(), (long) testCase.lanes())));

            int deliveries = feed(f, testCase);

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(deliveries));
            assertThat(f.acks.violations()).as("acknowledged before committed or dead-lettered").isEmpty();
            assertThat(db.violations).as("committed twice").isEmpty();
            for (String key : f.applied.keySet()) {
                assertThat(f.appliedSteps(key)).as("committed steps of %s", key).isSorted().doesNotHaveDuplicates();
            }
            for (String key : f.deadLetters.keys(f.subscription)) {
                List<DeadLetter> letters = f.deadLetters.byKey(f.subscription, key);
                assertThat(letters.get(0).kind()).isEqualTo(DeadLetter.Kind.FAILED);
                long failedStep = DispatcherPropertiesTest.DeadLetterPropertiesSupport.step(letters.get(0));
                assertThat(f.appliedSteps(key)).as("committed on %s after it was parked", key)
                        .allMatch(step -> step < failedStep);
            }
            BATCHED_EVENTS.addAndGet((long) f.meters.find("eventsync.dispatcher.batch.size").summary().totalAmount());
            FALLBACKS.addAndGet((long) f.counter("eventsync.dispatcher.batch.fallbacks"));
        }
    }

    /** Mostly apply; sometimes fail in every way a handler can. Deterministic per (seed, event, attempt). */
    private static Act act(long seed, Step step, int attempt) {
        long event = step.getKey().hashCode() * 0x9E3779B97F4A7C15L + step.getStep() * 0xBF58476D1CE4E5B9L;
        int roll = new SplittableRandom(seed ^ event ^ (attempt * 0xC2B2AE3D27D4EB4FL)).nextInt(1000);
        if (roll < 100) {
            return Act.THROW_TRANSIENT;
        }
        if (roll < 150) {
            return Act.RETRY_AFTER;
        }
        if (roll < 170) {
            return Act.REJECT;
        }
        if (roll < 190) {
            return Act.THROW_PERMANENT;
        }
        if (roll < 230) {
            return Act.SKIP;
        }
        if (roll < 234) {
            return Act.HANG;
        }
        return Act.APPLY;
    }

    /** Delivers the events (some twice), one feeding thread per partition; returns how many deliveries. */
    private static int feed(Fixture f, Case c) throws Exception {
        Map<String, Long> steps = new HashMap<>();
        Map<Integer, List<Envelope>> byPartition = new HashMap<>();
        int deliveries = 0;
        for (int i = 0; i < c.keyOfEachEvent().size(); i++) {
            int k = c.keyOfEachEvent().get(i);
            String key = "key-" + k;
            Envelope e = event(key, steps.merge(key, 1L, Long::sum));
            List<Envelope> partition = byPartition.computeIfAbsent(k % c.partitions(), p -> new ArrayList<>());
            partition.add(e);
            deliveries++;
            if (c.redelivered().contains(i)) {
                partition.add(e); // the same event again, later on its partition: a redelivery
                deliveries++;
            }
        }
        f.deliverConcurrently(byPartition);
        return deliveries;
    }

    private static List<Case> simpler(Case c) {
        List<Case> out = new ArrayList<>();
        if (c.partitions() > 1) {
            out.add(new Case(c.keyOfEachEvent(), c.redelivered(), 1, c.lanes(), c.behaviour()));
        }
        if (c.lanes() > 1) {
            out.add(new Case(c.keyOfEachEvent(), c.redelivered(), c.partitions(), 1, c.behaviour()));
        }
        if (!c.redelivered().isEmpty()) {
            out.add(new Case(c.keyOfEachEvent(), Set.of(), c.partitions(), c.lanes(), c.behaviour()));
        }
        List<Integer> keys = c.keyOfEachEvent();
        for (int run = Math.max(1, keys.size() / 2); run < keys.size(); run = run / 2) {
            List<Integer> fewer = keys.subList(0, keys.size() - run);
            Set<Integer> again = new java.util.HashSet<>();
            c.redelivered().stream().filter(i -> i < fewer.size()).forEach(again::add);
            out.add(new Case(List.copyOf(fewer), Set.copyOf(again), c.partitions(), c.lanes(), c.behaviour()));
            if (run == 1) {
                break;
            }
        }
        return out;
    }

    /** One transaction of the in-memory database: the handlers' writes, visible only once committed. */
    static final class Tx {
        final List<Step> writes = java.util.Collections.synchronizedList(new ArrayList<>());
        boolean aborted; // guarded by the database
    }

    /**
     * An all-or-nothing apply scope over memory: an inbox of committed event ids, and the fixture's
     * applied steps as the copy. Commits check abandonment under the database's lock, as a real
     * database's aborted connection refuses the commit.
     */
    static final class MemoryDb implements ApplyScope {
        private final Fixture f;
        private final Set<String> inbox = ConcurrentHashMap.newKeySet();
        final List<String> violations = new CopyOnWriteArrayList<>();

        MemoryDb(Fixture f) {
            this.f = f;
        }

        @Override
        public boolean refusesParkedKeys(DeadLetterStore store) {
            return store == f.deadLetters;
        }

        @Override
        public boolean batches() {
            return true;
        }

        private boolean parked(String subscription, String key) {
            return f.deadLetters.byKey(subscription, key).stream().anyMatch(DeadLetter::parksKey);
        }

        @Override
        public Outcome apply(Invocation invocation) throws Exception {
            Envelope e = invocation.envelope();
            if (inbox.contains(e.getId())) {
                return Outcome.skipped("duplicate");
            }
            if (!invocation.replaying() && parked(invocation.subscription(), invocation.key())) {
                throw new KeyParkedException(invocation.subscription(), invocation.key());
            }
            Tx tx = new Tx();
            invocation.onAbort(() -> abort(tx));
            invocation.bind(Tx.class, tx);
            Outcome outcome = invocation.proceed();
            if (outcome instanceof Outcome.RetryAfter || outcome instanceof Outcome.Reject) {
                return outcome;
            }
            commit(tx, List.of(invocation));
            return outcome;
        }

        @Override
        public List<Outcome> applyAll(List<? extends Invocation> invocations) throws Exception {
            Tx tx = new Tx();
            List<Invocation> fresh = new ArrayList<>();
            Outcome[] outcomes = new Outcome[invocations.size()];
            for (Invocation invocation : invocations) {
                invocation.onAbort(() -> abort(tx));
            }
            for (int i = 0; i < outcomes.length; i++) {
                Invocation invocation = invocations.get(i);
                if (inbox.contains(invocation.envelope().getId())) {
                    outcomes[i] = Outcome.skipped("duplicate");
                    continue;
                }
                if (parked(invocation.subscription(), invocation.key())) {
                    throw new EventsyncException("a key of the batch is parked");
                }
                invocation.bind(Tx.class, tx);
                Outcome outcome = invocation.proceed();
                if (!(outcome instanceof Outcome.Applied) && !(outcome instanceof Outcome.Skipped)) {
                    throw new EventsyncException("batch rolled back: " + outcome);
                }
                outcomes[i] = outcome;
                fresh.add(invocation);
            }
            commit(tx, fresh);
            return List.of(outcomes);
        }

        private synchronized void abort(Tx tx) {
            tx.aborted = true;
        }

        private synchronized void commit(Tx tx, List<? extends Invocation> invocations) {
            for (Invocation invocation : invocations) {
                if (invocation.abandoned()) {
                    tx.aborted = true;
                }
            }
            if (tx.aborted) {
                throw new EventsyncException("transaction aborted: an invocation was abandoned");
            }
            for (Invocation invocation : invocations) {
                if (!inbox.add(invocation.envelope().getId())) {
                    violations.add(invocation.envelope().getId());
                }
            }
            for (Step s : tx.writes) {
                f.applied.computeIfAbsent(s.getKey(), k -> java.util.Collections.synchronizedList(new ArrayList<>()))
                        .add(s.getStep());
            }
            for (Invocation invocation : invocations) {
                f.appliedIds.add(invocation.envelope().getId()); // skipped ones are done too
            }
        }
    }
}
