package io.eventsync.handler;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.test.dispatch.v1.Step;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Nothing a handler throws stops its lane: a StackOverflowError or any other Error is a failed attempt,
 * retried and dead-lettered like an exception, while the other keys of the same (single) lane flow.
 */
class LaneSurvivalTest {
    private final Fixture f = new Fixture();
    private final ConcurrentHashMap<String, AtomicInteger> calls = new ConcurrentHashMap<>();

    @AfterEach
    void close() {
        f.close();
    }

    private static int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    @Test
    void aHandlerThrowingStackOverflowErrorOrAnotherErrorFailsItsEventAndTheLaneGoesOn() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            int n = calls.computeIfAbsent(s.getKey() + ":" + s.getStep(), k -> new AtomicInteger()).incrementAndGet();
            if (s.getKey().equals("deep") && s.getStep() == 1) {
                recurse(0); // always: dead-lettered after its attempts
            }
            if (s.getKey().equals("flaky") && s.getStep() == 1 && n <= 2) {
                throw new AssertionError("an Error on attempt " + n);
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()).lanes(1));

        for (long step = 1; step <= 3; step++) {
            f.deliver("p-deep", event("deep", step));
            f.deliver("p-flaky", event("flaky", step));
            f.deliver("p-calm", event("calm", step));
        }
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(9));

        assertThat(f.appliedSteps("calm")).containsExactly(1L, 2L, 3L);
        assertThat(f.appliedSteps("flaky")).as("an Error is a failed attempt, then retried").containsExactly(1L, 2L, 3L);
        assertThat(f.appliedSteps("deep")).isEmpty();
        List<DeadLetter> deep = f.deadLetters.byKey(f.subscription, "deep");
        assertThat(deep).extracting(DeadLetter::kind).containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD,
                DeadLetter.Kind.HELD);
        assertThat(deep.get(0).errorChain()).anySatisfy(m -> assertThat(m).contains("StackOverflowError"));
        assertThat(calls.get("flaky:1").get()).isEqualTo(3);
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void aLaneWhoseThreadDiesOnAJvmFatalErrorIsTakenOverAndTheEventRunsAgain() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            int n = calls.computeIfAbsent(s.getKey() + ":" + s.getStep(), k -> new AtomicInteger()).incrementAndGet();
            if (s.getKey().equals("fatal") && n == 1) {
                throw new InternalError("simulated by the test"); // JVM-fatal class: kills the runner thread
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()).lanes(1));

        f.deliver("p-fatal", event("fatal", 1));
        f.deliver("p-calm", event("calm", 1));
        f.deliver("p-calm", event("calm", 2));
        // The dying runner rethrows the InternalError to its thread's uncaught-exception handler (as a JVM
        // fatal error should travel); Awaitility would report that as a failure of the wait itself.
        await().dontCatchUncaughtExceptions().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(3));

        assertThat(f.appliedSteps("calm")).containsExactly(1L, 2L);
        assertThat(f.appliedSteps("fatal")).containsExactly(1L);
        assertThat(calls.get("fatal:1").get()).isEqualTo(2);
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        assertThat(f.acks.violations()).isEmpty();
    }
}
