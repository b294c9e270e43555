package io.eventsync.handler;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.test.v1.OrderCancelled;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Dead letters park their key: later events of it are held in order until a replay or discard releases them. */
class ParkingTest {

    private final Fixture f = new Fixture();
    /** Steps "key:step" the handler rejects; tests change it to let a replay succeed. */
    private final Set<String> poisoned = ConcurrentHashMap.newKeySet();

    @AfterEach
    void close() {
        f.close();
    }

    private Dispatcher.Builder dispatcher(HandlerOptions options) {
        return f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            if (poisoned.contains(s.getKey() + ":" + s.getStep())) {
                return Outcome.reject("step " + s.getStep() + " of " + s.getKey() + " is poisoned");
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, options).build());
    }

    private void deliverSteps(String key, long from, long to) throws InterruptedException {
        for (long step = from; step <= to; step++) {
            f.deliver("p-" + key, event(key, step));
        }
    }

    private DeadLetter failedLetter(String key) {
        return f.deadLetters.byKey(f.subscription, key).stream()
                .filter(l -> l.kind() == DeadLetter.Kind.FAILED).findFirst().orElseThrow();
    }

    @Test
    void aDeadLetterHoldsLaterEventsOfItsKeyAndNotOfOthers() throws Exception {
        poisoned.add("a:2");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 5);
        deliverSteps("b", 1, 5);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(10));

        assertThat(f.appliedSteps("a")).containsExactly(1L);
        assertThat(f.appliedSteps("b")).containsExactly(1L, 2L, 3L, 4L, 5L);
        List<DeadLetter> letters = f.deadLetters.byKey(f.subscription, "a");
        assertThat(letters).extracting(DeadLetter::kind).containsExactly(DeadLetter.Kind.FAILED,
                DeadLetter.Kind.HELD, DeadLetter.Kind.HELD, DeadLetter.Kind.HELD);
        assertThat(letters.get(0).reason()).contains("poisoned");
        assertThat(letters.get(1).reason()).contains(letters.get(0).id());
        assertThat(f.dispatcher.parkedKeys()).containsExactly("a");
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void replayReleasesTheHeldEventsInOrderAndUnparksTheKey() throws Exception {
        poisoned.add("a:2");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 4);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(4));

        poisoned.clear();
        assertThat(f.dispatcher.replay(failedLetter("a").id()).get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.appliedSteps("a")).containsExactly(1L, 2L, 3L, 4L);
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        assertThat(f.dispatcher.parkedKeys()).isEmpty();

        deliverSteps("a", 5, 6);
        await().untilAsserted(() -> assertThat(f.appliedSteps("a")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L));
        assertThat(f.acks.violations()).isEmpty();
    }

    @Test
    void discardDropsTheFailedEventAndReleasesTheHeldOnesInOrder() throws Exception {
        poisoned.add("a:2");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 4);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(4));

        assertThat(f.dispatcher.discard(failedLetter("a").id()).get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.appliedSteps("a")).containsExactly(1L, 3L, 4L);
        assertThat(f.deadLetters.list(f.subscription)).isEmpty();
        assertThat(f.dispatcher.parkedKeys()).isEmpty();
    }

    @Test
    void aHeldEventThatFailsOnReleaseBecomesTheFailedLetterInPlaceAndTheRestStayHeld() throws Exception {
        poisoned.add("a:2");
        poisoned.add("a:4");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 5);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(5));
        List<DeadLetter> before = f.deadLetters.byKey(f.subscription, "a");

        poisoned.remove("a:2");
        assertThat(f.dispatcher.replay(before.get(0).id()).get(10, TimeUnit.SECONDS)).isFalse();
        assertThat(f.appliedSteps("a")).containsExactly(1L, 2L, 3L);
        List<DeadLetter> after = f.deadLetters.byKey(f.subscription, "a");
        assertThat(after).extracting(DeadLetter::id).containsExactly(before.get(2).id(), before.get(3).id());
        assertThat(after).extracting(DeadLetter::kind).containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD);
        assertThat(after.get(0).reason()).contains("step 4");
        assertThat(f.dispatcher.parkedKeys()).containsExactly("a");

        deliverSteps("a", 6, 6); // arrives while parked: held behind, in order
        await().untilAsserted(() -> assertThat(f.deadLetters.byKey(f.subscription, "a")).hasSize(3));
        poisoned.clear();
        assertThat(f.dispatcher.replay(after.get(0).id()).get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.appliedSteps("a")).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(f.dispatcher.parkedKeys()).isEmpty();
    }

    @Test
    void withTheSkipPolicyTheKeyKeepsFlowing() throws Exception {
        poisoned.add("a:2");
        f.start(dispatcher(HandlerOptions.custom().deadLetterPolicy(DeadLetterPolicy.SKIP)
                .retryPolicy(fast().retryPolicy()).build()));
        deliverSteps("a", 1, 4);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(4));
        assertThat(f.appliedSteps("a")).containsExactly(1L, 3L, 4L);
        assertThat(f.deadLetters.list(f.subscription)).singleElement()
                .satisfies(l -> assertThat(l.kind()).isEqualTo(DeadLetter.Kind.FAILED));
        assertThat(f.dispatcher.parkedKeys()).isEmpty();
    }

    @Test
    void aLetterKeptUnderTheSkipPolicyDoesNotHoldBackTheReleaseOfAParkedKey() throws Exception {
        poisoned.add("a:2");
        HandlerOptions skip = HandlerOptions.custom().deadLetterPolicy(DeadLetterPolicy.SKIP)
                .retryPolicy(fast().retryPolicy()).build();
        f.start(f.builder(HandlerRegistry.builder()
                .on(Step.class, (s, c) -> {
                    if (poisoned.contains(s.getKey() + ":" + s.getStep())) {
                        return Outcome.reject("step " + s.getStep() + " of " + s.getKey() + " is poisoned");
                    }
                    f.record(s, c.envelope());
                    return Outcome.applied();
                }, fast())
                .on(OrderCancelled.class, (o, c) -> Outcome.reject("cancellations are not handled here"), skip)
                .build())
                .types(TypeRegistry.builder().add(Step.getDefaultInstance())
                        .add(OrderCancelled.getDefaultInstance()).build()));
        f.deliver("p-a", Events.create("test", "a", 1, OrderCancelled.newBuilder().setOrderId("a").build()));
        deliverSteps("a", 2, 3);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(3));
        assertThat(f.deadLetters.byKey(f.subscription, "a")).extracting(DeadLetter::kind)
                .containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD);

        poisoned.clear();
        DeadLetter parking = f.deadLetters.byKey(f.subscription, "a").get(1);
        f.dispatcher.replay(parking.id()).get(10, TimeUnit.SECONDS);
        assertThat(f.appliedSteps("a")).containsExactly(2L, 3L);
        assertThat(f.dispatcher.parkedKeys()).isEmpty();
        assertThat(f.deadLetters.byKey(f.subscription, "a")).singleElement()
                .satisfies(l -> assertThat(l.type()).isEqualTo(OrderCancelled.getDescriptor().getFullName()));
    }

    @Test
    void parkedKeysAreRestoredFromTheStoreWhenTheDispatcherIsBuilt() throws Exception {
        poisoned.add("a:1");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 1);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(1));
        f.dispatcher.close();

        f.start(dispatcher(fast())); // a restart on the same store
        assertThat(f.dispatcher.parkedKeys()).containsExactly("a");
        deliverSteps("a", 2, 2);
        await().untilAsserted(() -> assertThat(f.deadLetters.byKey(f.subscription, "a"))
                .extracting(DeadLetter::kind).containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD));
        assertThat(f.appliedSteps("a")).isEmpty();
    }

    @Test
    void replayingAHeldLetterIsRefusedNamingTheReason() throws Exception {
        poisoned.add("a:1");
        f.start(dispatcher(fast()));
        deliverSteps("a", 1, 2);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        DeadLetter held = f.deadLetters.byKey(f.subscription, "a").get(1);
        assertThatThrownBy(() -> f.dispatcher.replay(held.id()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("HELD");
        assertThatThrownBy(() -> f.dispatcher.replay("no-such-letter"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-letter");
    }

    @Test
    void eventsArrivingDuringAReplayWaitBehindItInOrder() throws Exception {
        poisoned.add("a:1");
        f.start(dispatcher(HandlerOptions.custom().retryPolicy(RetryPolicy.custom().maxAttempts(3)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2)).build()).build()));
        deliverSteps("a", 1, 2);
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));
        poisoned.clear();
        var done = f.dispatcher.replay(failedLetter("a").id());
        deliverSteps("a", 3, 3);
        assertThat(done.get(10, TimeUnit.SECONDS)).isTrue();
        await().untilAsserted(() -> assertThat(f.appliedSteps("a")).containsExactly(1L, 2L, 3L));
        assertThat(f.acks.violations()).isEmpty();
    }
}
