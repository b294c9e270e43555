package io.eventsync.transport.direct;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Subscription;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The direct publisher in front of a real {@link Dispatcher}: order, sends that complete only after the
 * dispatcher's acknowledgement (applied, skipped, or dead-lettered and stored), and close.
 */
class DirectPublisherTest {
    static {
        Awaitility.setDefaultPollInterval(Duration.ofMillis(5));
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultTimeout(Duration.ofSeconds(20));
    }

    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    private static final TypeRegistry TYPES = TypeRegistry.builder().add(Step.getDefaultInstance()).build();

    private final String subscription = "copy-" + UUID.randomUUID().toString().substring(0, 8);
    private final String topic = "orders-" + UUID.randomUUID().toString().substring(0, 8);
    /** Event ids whose handler returned Applied or Skipped. */
    private final Set<String> done = ConcurrentHashMap.newKeySet();
    /** What reached the dispatcher, in order: offset and event id. */
    private final List<String> delivered = new CopyOnWriteArrayList<>();
    /** Sends that completed normally before their event was done (applied, skipped or dead-lettered). */
    private final List<String> early = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> resources = new ArrayList<>();
    private DeadLetterStore deadLetters = new InMemoryDeadLetters();
    private Dispatcher dispatcher;

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private static Envelope event(String key, long step) {
        return Events.create("test", key, step, Step.newBuilder().setKey(key).setStep(step).build());
    }

    private static HandlerOptions fast() {
        return HandlerOptions.custom()
                .timeout(Duration.ofSeconds(30))
                .retryPolicy(RetryPolicy.custom().maxAttempts(3).initialBackoff(Duration.ofMillis(1))
                        .maxBackoff(Duration.ofMillis(5)).build())
                .build();
    }

    /** A dispatcher whose Step handler runs {@code handler} and records the event as done when it returns. */
    private DirectPublisher start(StepHandler handler, int capacity) {
        dispatcher = Dispatcher.builder(subscription).types(TYPES).deadLetters(deadLetters)
                .meterRegistry(new SimpleMeterRegistry()).lanes(4).shutdownTimeout(Duration.ofSeconds(5))
                .handlers(HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
                    Outcome outcome = handler.handle(step);
                    done.add(ctx.envelope().getId());
                    return outcome;
                }, fast()).build())
                .build();
        resources.add(dispatcher);
        DeliveryHandler recording = new DeliveryHandler() {
            @Override
            public void onDelivery(Delivery delivery) throws InterruptedException {
                delivered.add(delivery.offset() + ":" + idOf(delivery));
                dispatcher.onDelivery(delivery);
            }

            @Override
            public void onSubscribed(Subscription s) {
                dispatcher.onSubscribed(s);
            }
        };
        DirectPublisher publisher = DirectPublisher.builder(topic, recording).capacity(capacity).build();
        resources.add(publisher);
        return publisher;
    }

    private static String idOf(Delivery delivery) {
        try {
            return CODEC.decode(delivery.bytes()).getId();
        } catch (RuntimeException e) {
            return "undecodable";
        }
    }

    @FunctionalInterface
    private interface StepHandler {
        Outcome handle(Step step) throws Exception;
    }

    /** Sends {@code event}; notes when its send completed normally before the event was done. */
    private CompletableFuture<Void> send(DirectPublisher publisher, Envelope event) {
        return send(publisher, new OutboundEvent(event, CODEC.encode(event)));
    }

    private CompletableFuture<Void> send(DirectPublisher publisher, OutboundEvent event) {
        String id = event.envelope().getId();
        CompletableFuture<Void> sent = publisher.send(event);
        sent.thenRun(() -> {
            if (!done.contains(id) && !isDeadLettered(id)) {
                early.add(id);
            }
        });
        return sent;
    }

    private boolean isDeadLettered(String eventId) {
        return deadLetters.list(subscription).stream().anyMatch(l -> l.eventId().equals(eventId));
    }

    /**
     * Random keys, random outcomes (applied, skipped, rejected into a dead letter, transient failures that
     * succeed on retry): every event reaches the dispatcher once, in send order, and each send completes
     * normally, never before its event was done.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void eventsReachTheDispatcherInSendOrderAndEachSendCompletesOnlyAfterItsEventIsDone(long seed) throws Exception {
        Random random = new Random(seed);
        Map<String, Integer> failuresLeft = new ConcurrentHashMap<>();
        DirectPublisher publisher = start(step -> {
            int roll = Math.floorMod((step.getKey() + step.getStep()).hashCode(), 10);
            if (roll == 0) {
                return Outcome.skipped("test");
            }
            if (roll == 1 && failuresLeft.merge(step.getKey() + step.getStep(), -1, Integer::sum) >= 0) {
                throw new IllegalStateException("transient (test)");
            }
            if (roll == 2 && step.getStep() % 7 == 0) {
                return Outcome.reject("rejected (test)");
            }
            return Outcome.applied();
        }, DirectPublisher.DEFAULT_CAPACITY);
        List<String> sentIds = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        Map<String, Long> steps = new ConcurrentHashMap<>();
        for (int i = 0; i < 500; i++) {
            String key = "k" + random.nextInt(20);
            Envelope e = event(key, steps.merge(key, 1L, Long::sum));
            failuresLeft.put(key + e.getSequence(), 1);
            sentIds.add(e.getId());
            sends.add(send(publisher, e));
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < sentIds.size(); i++) {
            expected.add(i + ":" + sentIds.get(i));
        }
        assertThat(delivered).containsExactlyElementsOf(expected);
        assertThat(early).isEmpty();
        await().until(() -> publisher.lag() == 0); // an acknowledged delivery leaves the count right after its send completes
    }

    @Test
    void aSendCompletesOnlyAfterTheDispatcherAcknowledgedItsEventAndEveryEarlierOne() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blocked = new AtomicBoolean();
        DirectPublisher publisher = start(step -> {
            if (step.getKey().equals("slow")) {
                blocked.set(true);
                release.await();
            }
            return Outcome.applied();
        }, DirectPublisher.DEFAULT_CAPACITY);
        CompletableFuture<Void> first = send(publisher, event("fast", 1));
        first.get(20, TimeUnit.SECONDS);
        CompletableFuture<Void> slow = send(publisher, event("slow", 1));
        Envelope fast2 = event("fast", 2);
        CompletableFuture<Void> later = send(publisher, fast2);
        await().until(() -> blocked.get() && done.contains(fast2.getId()));
        // "fast" 2 is applied, but its acknowledgement waits for the event before it: so does its send.
        assertThat(slow).isNotDone();
        assertThat(later).isNotDone();
        assertThat(publisher.lag()).isEqualTo(2);
        await().until(() -> dispatcher.lag().fromTransport() && dispatcher.lag().events() == 2);
        release.countDown();
        CompletableFuture.allOf(slow, later).get(20, TimeUnit.SECONDS);
        assertThat(early).isEmpty();
        await().until(() -> publisher.lag() == 0); // an acknowledged delivery leaves the count right after its send completes
    }

    @Test
    void closeFailsTheSendsOfEveryEventNotAcknowledgedAndLaterAcknowledgementsCompleteNothing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean blocked = new AtomicBoolean();
        DirectPublisher publisher = start(step -> {
            if (step.getKey().equals("slow")) {
                blocked.set(true);
                release.await();
            }
            return Outcome.applied();
        }, DirectPublisher.DEFAULT_CAPACITY);
        send(publisher, event("a", 1)).get(20, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> pending = new ArrayList<>();
        pending.add(send(publisher, event("slow", 1)));
        for (long step = 2; step <= 20; step++) {
            pending.add(send(publisher, event("a", step)));
        }
        await().until(blocked::get);
        publisher.close();
        assertThat(pending).allSatisfy(f -> assertThat(f).isCompletedExceptionally());
        assertThatThrownBy(() -> pending.get(0).get()).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(EventsyncException.class).isNotInstanceOf(PermanentException.class)
                .hasMessageContaining("closed before its handler acknowledged");
        assertThat(publisher.send(new OutboundEvent(event("a", 21), CODEC.encode(event("a", 21)))))
                .isCompletedExceptionally();

        // The dispatcher still finishes what it took; its acknowledgements come after the close and change nothing.
        release.countDown();
        await().until(() -> dispatcher.inFlight() == 0);
        assertThat(pending).allSatisfy(f -> assertThat(f).isCompletedExceptionally());
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .doesNotContain("eventsync-direct-" + topic); // the delivery thread stopped
    }

    @Test
    void aHandlerFailureThatEndsInADeadLetterCompletesTheSendOnlyOnceTheLetterIsStored() throws Exception {
        Gated store = new Gated(id -> true);
        deadLetters = store;
        DirectPublisher publisher = start(step -> {
            if (step.getKey().equals("bad") && step.getStep() == 1) {
                throw new PermanentException("this account does not exist (test)");
            }
            return Outcome.applied();
        }, DirectPublisher.DEFAULT_CAPACITY);
        CompletableFuture<Void> bad = send(publisher, event("bad", 1));
        CompletableFuture<Void> heldBehind = send(publisher, event("bad", 2)); // parked key: a HELD letter
        Envelope good = event("good", 1);
        CompletableFuture<Void> other = send(publisher, good);
        await().until(() -> store.writing.get() && done.contains(good.getId()));
        assertThat(bad).isNotDone(); // the store has not finished writing the letter
        assertThat(other).isNotDone(); // applied, but behind the unfinished event in the partition
        store.open.countDown();
        CompletableFuture.allOf(bad, heldBehind, other).get(20, TimeUnit.SECONDS);
        assertThat(early).isEmpty();
        assertThat(store.list(subscription)).extracting(DeadLetter::kind)
                .containsExactly(DeadLetter.Kind.FAILED, DeadLetter.Kind.HELD);
    }

    @Test
    void bytesThatDoNotDecodeAreDeadLetteredByTheDispatcherParkingTheEventsKeyAndTheSendCompletes() throws Exception {
        DirectPublisher publisher = start(step -> Outcome.applied(), DirectPublisher.DEFAULT_CAPACITY);
        Envelope e = event("acc-1", 1);
        send(publisher, new OutboundEvent(e, new byte[] {1, 2, 3, 4, 5})).get(20, TimeUnit.SECONDS);
        List<DeadLetter> letters = deadLetters.list(subscription);
        assertThat(letters).hasSize(1);
        assertThat(letters.get(0).key()).isEqualTo("acc-1");
        assertThat(letters.get(0).parksKey()).isTrue();
        assertThat(letters.get(0).origin()).contains("direct topic " + topic + " offset 0");
    }

    @Test
    void anEventOverTheSizeLimitFailsItsSendForGoodAndIsNotDelivered() {
        DirectPublisher publisher = start(step -> Outcome.applied(), DirectPublisher.DEFAULT_CAPACITY);
        Envelope e = event("acc-1", 1);
        CompletableFuture<Void> sent = publisher.send(new OutboundEvent(e, new byte[publisher.maxEventBytes() + 1]));
        assertThat(sent).isCompletedExceptionally();
        assertThatThrownBy(sent::get).cause().isInstanceOf(PermanentException.class).hasMessageContaining("maxEventBytes");
        assertThat(delivered).isEmpty();
    }

    @Test
    void aFullQueueFailsTheSendAtOnceWithoutBlockingTheSender() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Delivery> taken = new CopyOnWriteArrayList<>();
        DirectPublisher publisher = DirectPublisher.builder("orders", d -> {
            taken.add(d);
            release.await();
            d.ack();
        }).capacity(2).build();
        resources.add(publisher);
        CompletableFuture<Void> first = publisher.send(outbound(event("a", 1)));
        await().until(() -> taken.size() == 1);
        CompletableFuture<Void> second = publisher.send(outbound(event("a", 2)));
        CompletableFuture<Void> third = publisher.send(outbound(event("a", 3)));
        CompletableFuture<Void> refused = publisher.send(outbound(event("a", 4)));
        assertThat(refused).isCompletedExceptionally();
        assertThatThrownBy(refused::get).cause().isInstanceOf(EventsyncException.class)
                .isNotInstanceOf(PermanentException.class).hasMessageContaining("capacity");
        release.countDown();
        CompletableFuture.allOf(first, second, third).get(20, TimeUnit.SECONDS);
        assertThat(taken).extracting(Delivery::offset).containsExactly(0L, 1L, 2L);
        assertThat(taken).extracting(Delivery::partition).containsOnly("direct:orders");
        assertThat(taken).extracting(Delivery::transportKey).containsOnly("a");
    }

    @Test
    void aHandlerThatThrowsFailsThatSendAndTheNextEventsAreStillDelivered() throws Exception {
        DirectPublisher publisher = DirectPublisher.builder("orders", d -> {
            if (d.offset() == 0) {
                throw new IllegalStateException("handler bug (test)");
            }
            d.ack();
        }).build();
        resources.add(publisher);
        CompletableFuture<Void> failed = publisher.send(outbound(event("a", 1)));
        CompletableFuture<Void> next = publisher.send(outbound(event("a", 2)));
        next.get(20, TimeUnit.SECONDS);
        assertThat(failed).isCompletedExceptionally();
        assertThatThrownBy(failed::get).cause().isInstanceOf(EventsyncException.class).hasMessageContaining("handler bug");
    }

    /** A relay that restarts its stream sends an event again while its first delivery is on its way. */
    @Test
    void anEventSentAgainWhileItsDeliveryIsPendingIsNotDeliveredTwiceAndCompletesWithIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Delivery> taken = new CopyOnWriteArrayList<>();
        DirectPublisher publisher = DirectPublisher.builder("orders", d -> {
            taken.add(d);
            release.await();
            d.ack();
        }).build();
        resources.add(publisher);
        Envelope e = event("a", 1);
        CompletableFuture<Void> first = publisher.send(outbound(e));
        await().until(() -> taken.size() == 1);
        CompletableFuture<Void> again = publisher.send(outbound(e));
        assertThat(again).isNotDone();
        assertThat(publisher.lag()).isEqualTo(1);
        release.countDown();
        CompletableFuture.allOf(first, again).get(20, TimeUnit.SECONDS);
        assertThat(taken).hasSize(1);
        await().until(() -> publisher.lag() == 0);
        // Once acknowledged, a later send of the same event is a new delivery (the consumer's inbox drops it).
        publisher.send(outbound(e)).get(20, TimeUnit.SECONDS);
        assertThat(taken).hasSize(2);
    }

    /** An Error out of the handler ends the delivery thread: every send fails from then on instead of hanging. */
    @Test
    void aDeliveryThreadThatDiedFailsTheSendsInsteadOfQueueingThemForNobody() throws Exception {
        DirectPublisher publisher = DirectPublisher.builder("orders", d -> {
            throw new StackOverflowError("handler bug (test)");
        }).build();
        resources.add(publisher);
        CompletableFuture<Void> first = publisher.send(outbound(event("a", 1)));
        assertThatThrownBy(() -> first.get(20, TimeUnit.SECONDS)).cause().isInstanceOf(EventsyncException.class)
                .hasMessageContaining("delivery thread died");
        CompletableFuture<Void> later = publisher.send(outbound(event("a", 2)));
        assertThat(later).isCompletedExceptionally();
        assertThatThrownBy(later::get).cause().hasMessageContaining("stopped");
        assertThat(publisher.lag()).isZero();
    }

    @Test
    void builderRejectsBadSettingsNamingTheValue() {
        assertThatThrownBy(() -> DirectPublisher.builder("orders", d -> d.ack()).capacity(0).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("capacity").hasMessageContaining("0");
        assertThatThrownBy(() -> DirectPublisher.builder("bad topic", d -> d.ack()).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("bad topic");
        assertThatThrownBy(() -> DirectPublisher.builder("orders", null).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("handler");
    }

    private static OutboundEvent outbound(Envelope e) {
        return new OutboundEvent(e, CODEC.encode(e));
    }

    /** The in-memory store whose first write waits until {@link #open} is counted down. */
    private static final class Gated implements DeadLetterStore {
        private final InMemoryDeadLetters inner = new InMemoryDeadLetters();
        final CountDownLatch open = new CountDownLatch(1);
        final AtomicBoolean writing = new AtomicBoolean();
        private final Predicate<String> gated;

        Gated(Predicate<String> gated) {
            this.gated = gated;
        }

        @Override
        public DeadLetter add(DeadLetter letter) {
            if (gated.test(letter.eventId())) {
                writing.set(true);
                try {
                    open.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EventsyncException("interrupted (test)");
                }
            }
            return inner.add(letter);
        }

        @Override public Optional<DeadLetter> holdIfParked(DeadLetter held) { return inner.holdIfParked(held); }
        @Override public List<DeadLetter> list(String s) { return inner.list(s); }
        @Override public Optional<DeadLetter> get(String id) { return inner.get(id); }
        @Override public List<DeadLetter> byKey(String s, String key) { return inner.byKey(s, key); }
        @Override public Set<String> keys(String s) { return inner.keys(s); }
        @Override public boolean update(DeadLetter letter) { return inner.update(letter); }
        @Override public boolean remove(String id) { return inner.remove(id); }
    }
}
