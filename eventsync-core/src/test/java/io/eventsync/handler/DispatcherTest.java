package io.eventsync.handler;

import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Events;
import io.eventsync.test.dispatch.v1.Other;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class DispatcherTest {

    private final Fixture f = new Fixture();

    @AfterEach
    void close() {
        f.close();
    }

    private HandlerRegistry recording(HandlerOptions options) {
        return HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            f.record(step, ctx.envelope());
            return Outcome.applied();
        }, options).build();
    }

    @Test
    void appliesEveryEventAndAcknowledgesEachOnceInOffsetOrder() throws Exception {
        f.start(f.builder(recording(fast())));
        for (long step = 1; step <= 50; step++) {
            for (String key : List.of("a", "b", "c")) {
                f.deliver("p" + (step % 2), event(key, step));
            }
        }
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(150));
        assertThat(f.acks.violations()).isEmpty();
        for (String key : List.of("a", "b", "c")) {
            assertThat(f.appliedSteps(key)).hasSize(50).isSorted();
        }
        assertThat(f.counter("eventsync.dispatcher.applied")).isEqualTo(150);
    }

    @Test
    void registeringTwoHandlersForOneTypeFailsAtRegistration() {
        HandlerRegistry.Builder handlers = HandlerRegistry.builder().on(Step.class, (s, c) -> Outcome.applied());
        assertThatThrownBy(() -> handlers.on(Step.class, (s, c) -> Outcome.skipped("dup")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(Step.getDescriptor().getFullName());
    }

    @Test
    void aHandledTypeMissingFromTheTypeRegistryFailsAtBuild() {
        HandlerRegistry handlers = HandlerRegistry.builder().on(Other.class, (s, c) -> Outcome.applied()).build();
        assertThatThrownBy(() -> f.builder(handlers).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(Other.getDescriptor().getFullName());
    }

    @Test
    void builderRejectsZeroLanesNamingTheValue() {
        assertThatThrownBy(() -> f.builder(recording(fast())).lanes(0).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("lanes").hasMessageContaining("0");
    }

    @Test
    void anEventOfAnUnknownTypeGoesToTheDeadLetters() throws Exception {
        f.start(f.builder(recording(fast())));
        Envelope unknown = Events.create("test", "k", 1, Other.newBuilder().setNote("x").build());
        f.deliver("p", unknown);
        f.deliver("p", event("other-key", 1));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        List<DeadLetter> letters = f.deadLetters.list(f.subscription);
        assertThat(letters).singleElement().satisfies(l -> {
            assertThat(l.kind()).isEqualTo(DeadLetter.Kind.FAILED);
            assertThat(l.eventId()).isEqualTo(unknown.getId());
            assertThat(l.reason()).contains("unknown_type").contains(Other.getDescriptor().getFullName());
        });
        assertThat(f.appliedSteps("other-key")).containsExactly(1L);
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void aDeadLetteredUnknownTypeParksItsKeyUnlessToldNotTo() throws Exception {
        f.start(f.builder(recording(fast())));
        f.deliver("p", Events.create("test", "k", 1, Other.getDefaultInstance()));
        f.deliver("p", event("k", 2));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        assertThat(f.appliedSteps("k")).isEmpty();
        assertThat(f.dispatcher.parkedKeys()).containsExactly("k");
        f.close();

        Fixture g = new Fixture();
        try (g) {
            g.start(g.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
                g.record(s, c.envelope());
                return Outcome.applied();
            }, fast()).build()).unknownTypeDeadLetterPolicy(DeadLetterPolicy.SKIP));
            g.deliver("p", Events.create("test", "k", 1, Other.getDefaultInstance()));
            g.deliver("p", event("k", 2));
            await().untilAsserted(() -> assertThat(g.appliedSteps("k")).containsExactly(2L));
            assertThat(g.deadLetters.list(g.subscription)).hasSize(1);
            assertThat(g.dispatcher.parkedKeys()).isEmpty();
        }
    }

    @Test
    void anEventOfAnUnknownTypeIsSkippedWhenThePolicySaysSo() throws Exception {
        f.start(f.builder(recording(fast())).unknownTypePolicy(Dispatcher.UnknownTypePolicy.SKIP));
        f.deliver("p", Events.create("test", "k", 1, Other.getDefaultInstance()));
        f.deliver("p", event("k", 2));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        assertThat(f.appliedSteps("k")).containsExactly(2L);
        assertThat(f.counter("eventsync.dispatcher.skipped")).isEqualTo(1);
    }

    @Test
    void undecodableBytesAreDeadLetteredWithoutAKeyAndParkNothing() throws Exception {
        f.start(f.builder(recording(fast())));
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        f.dispatcher.onDelivery(f.acks.next("p", null, garbage));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        assertThat(f.deadLetters.list(f.subscription)).singleElement().satisfies(l -> {
            assertThat(l.key()).isEmpty();
            assertThat(l.eventId()).isEmpty();
            assertThat(l.bytes()).isEqualTo(garbage);
            assertThat(l.reason()).startsWith("undecodable");
            assertThat(l.errorChain()).isNotEmpty();
        });
        assertThat(f.dispatcher.parkedKeys()).isEmpty();
        assertThat(f.appliedSteps("k")).containsExactly(1L);
    }

    @Test
    void anInvalidEventIsDeadLetteredAtOnceAndNeverReachesTheHandler() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            calls.incrementAndGet();
            return Outcome.applied();
        }, fast()).build()));
        Envelope invalid = event("k", 1).toBuilder().setSequence(0).build();
        f.deliver("p", invalid);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
        assertThat(f.deadLetters.list(f.subscription)).singleElement().satisfies(l -> {
            assertThat(l.reason()).startsWith("invalid").contains("sequence");
            assertThat(l.attempts()).isEqualTo(1);
        });
        assertThat(calls).hasValue(0);
    }

    @Test
    void aTransientFailureIsRetriedUntilItSucceeds() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        List<Integer> attempts = new CopyOnWriteArrayList<>();
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            attempts.add(c.attempt());
            if (calls.incrementAndGet() < 3) {
                throw new IllegalStateException("database busy");
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
        assertThat(attempts).containsExactly(1, 2, 3);
        assertThat(f.appliedSteps("k")).containsExactly(1L);
        assertThat(f.counter("eventsync.dispatcher.retried")).isEqualTo(2);
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void afterTheLastAttemptTheEventIsDeadLetteredNamingAttemptsAndLastError() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            throw new IllegalStateException("still busy on attempt " + c.attempt());
        }, fast()).build()));
        Envelope e = event("k", 1);
        f.deliver("p", e);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
        DeadLetter letter = f.deadLetters.list(f.subscription).get(0);
        assertThat(letter.attempts()).isEqualTo(5);
        assertThat(letter.reason()).contains("5 attempts").contains("still busy on attempt 5");
        assertThat(letter.errorChain().get(0)).contains("gave up after 5 attempts");
        assertThat(letter.errorChain()).anySatisfy(m -> assertThat(m).contains("IllegalStateException"));
        assertThat(letter.firstFailure()).isBeforeOrEqualTo(letter.lastFailure());
        assertThat(letter.bytes()).isEqualTo(Fixture.CODEC.encode(e));
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void aPermanentExceptionIsDeadLetteredWithoutRetry() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            calls.incrementAndGet();
            throw new PermanentException("negative amount");
        }, fast()).build()));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
        assertThat(calls).hasValue(1);
        assertThat(f.deadLetters.list(f.subscription)).singleElement()
                .satisfies(l -> assertThat(l.reason()).contains("negative amount"));
        assertThat(f.meters.find("eventsync.dispatcher.dead_lettered").tag("reason", "permanent").counter().count())
                .isEqualTo(1);
    }

    @Test
    void aKeyWaitingForItsRetryDoesNotBlockOtherKeysOfItsLane() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            if (s.getKey().equals("slow")) {
                return Outcome.retryAfter(Duration.ofHours(1), "not yet");
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()).lanes(1).shutdownTimeout(Duration.ZERO));
        f.deliver("p1", event("slow", 1));
        for (long i = 1; i <= 20; i++) {
            f.deliver("p2", event("fast", i));
        }
        await().untilAsserted(() -> assertThat(f.appliedSteps("fast")).hasSize(20));
        assertThat(f.acks.acks()).isEqualTo(20);
        assertThat(f.acks.acked("p1", 0)).isFalse();
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void aTimeoutFiresTheCancellationTokenAndInterruptsTheHandler() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        List<String> seen = new CopyOnWriteArrayList<>();
        HandlerOptions options = HandlerOptions.custom().timeout(Duration.ofMillis(50))
                .cancellationGrace(Duration.ofSeconds(30)).retryPolicy(fast().retryPolicy()).build();
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            if (c.attempt() == 1) {
                c.cancellation().onCancel(() -> seen.add("callback"));
                try {
                    never.await();
                } catch (InterruptedException e) {
                    seen.add("interrupted, token cancelled=" + c.cancellation().isCancelled());
                    throw e;
                }
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, options).build()));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(f.appliedSteps("k")).containsExactly(1L));
        assertThat(seen).containsExactlyInAnyOrder("callback", "interrupted, token cancelled=true");
        assertThat(f.counter("eventsync.dispatcher.timed_out")).isEqualTo(1);
        assertThat(f.counter("eventsync.dispatcher.abandoned")).isZero();
        assertThat(f.dispatcher.degradedTypes()).isEmpty();
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
    }

    @Test
    void aHandlerIgnoringCancellationIsAbandonedAndTheEventRetriedOnAFreshWorker() throws Exception {
        CountDownLatch zombieMayReturn = new CountDownLatch(1);
        CountDownLatch zombieReturned = new CountDownLatch(1);
        Map<Integer, String> threadByAttempt = new ConcurrentHashMap<>();
        List<Boolean> abandonedSeenByScope = new CopyOnWriteArrayList<>();
        AtomicInteger abortHooks = new AtomicInteger();
        HandlerOptions options = HandlerOptions.custom().timeout(Duration.ofMillis(30))
                .cancellationGrace(Duration.ofMillis(30)).retryPolicy(fast().retryPolicy()).build();
        ApplyScope scope = invocation -> {
            invocation.onAbort(abortHooks::incrementAndGet);
            Outcome outcome = invocation.proceed();
            if (invocation.envelope().getSequence() == 1 && invocation.attempt() == 1) {
                abandonedSeenByScope.add(invocation.abandoned());
                zombieReturned.countDown();
            }
            return outcome;
        };
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            if (s.getStep() == 1) {
                threadByAttempt.put(c.attempt(), Thread.currentThread().getName());
            }
            if (s.getStep() == 1 && c.attempt() == 1) {
                while (true) { // ignores cancellation and interruption until the test lets it go
                    try {
                        if (zombieMayReturn.await(1, TimeUnit.DAYS)) {
                            break;
                        }
                    } catch (InterruptedException ignored) {
                        // a zombie
                    }
                }
                return Outcome.reject("late return of the abandoned attempt must change nothing");
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, options).build()).applyScope(scope).lanes(1));

        f.deliver("p", event("k", 1));
        f.deliver("p", event("k", 2));
        await().untilAsserted(() -> assertThat(f.appliedSteps("k")).containsExactly(1L, 2L));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        assertThat(abortHooks).hasValue(1);
        assertThat(threadByAttempt.get(2)).isNotEqualTo(threadByAttempt.get(1)).startsWith("eventsync-" + f.subscription + "-lane-0");
        assertThat(f.dispatcher.degradedTypes()).containsExactly(Step.getDescriptor().getFullName());
        assertThat(f.meters.find("eventsync.handler.degraded").gauge().value()).isEqualTo(1.0);
        assertThat(f.counter("eventsync.dispatcher.abandoned")).isEqualTo(1);

        zombieMayReturn.countDown();
        assertThat(zombieReturned.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(abandonedSeenByScope).containsExactly(true);
        f.deliver("p", event("k", 3));
        await().untilAsserted(() -> assertThat(f.appliedSteps("k")).containsExactly(1L, 2L, 3L));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(3));
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void inFlightWorkIsBoundedAndDeliveryBlocksBeyondIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            release.await();
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()).maxInFlight(2));
        f.deliver("p", event("a", 1));
        f.deliver("p", event("b", 1));
        Thread transport = new Thread(() -> {
            try {
                f.deliver("p", event("c", 1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "test-transport");
        transport.start();
        await().until(() -> transport.getState() == Thread.State.WAITING);
        assertThat(f.dispatcher.inFlight()).isEqualTo(2);
        release.countDown();
        transport.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(transport.isAlive()).isFalse();
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(3));
    }

    @Test
    void followUpsEmittedByAnAppliedHandlerGoToTheSink() throws Exception {
        List<Envelope> sunk = new CopyOnWriteArrayList<>();
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            c.emit(event("derived-" + s.getKey(), s.getStep()));
            return Outcome.applied();
        }, fast()).build()).followUps(sunk::addAll));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(sunk).singleElement()
                .satisfies(e -> assertThat(e.getSubject()).isEqualTo("derived-k")));
    }

    @Test
    void followUpsWithNowhereToGoDeadLetterTheEventInsteadOfBeingDropped() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            c.emit(event("derived-" + s.getKey(), s.getStep()));
            return Outcome.applied();
        }, fast()).build()));
        f.deliver("p", event("k", 1));
        await().untilAsserted(() -> assertThat(f.deadLetters.list(f.subscription)).singleElement()
                .satisfies(letter -> assertThat(letter.reason()).contains("1 follow-up events", "followUps(")));
    }

    @Test
    void closeLeavesUnfinishedEventsUnacknowledgedAndStopsItsThreads() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            never.await();
            return Outcome.applied();
        }, fast()).build()).shutdownTimeout(Duration.ofMillis(20)));
        f.deliver("p", event("k", 1));
        await().until(() -> Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("eventsync-" + f.subscription + "-lane")));
        f.dispatcher.close();
        assertThat(f.acks.acks()).isZero();
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        await().untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().startsWith("eventsync-" + f.subscription)));
        f.deliver("p", event("k", 2)); // after close: not taken, not acknowledged
        assertThat(f.acks.acks()).isZero();
    }
}
