package io.eventsync.handler;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.transport.Delivery;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.awaitility.Awaitility;

/** A dispatcher under test with the state tests look at: applied steps per key, dead letters, acks. */
final class Fixture implements AutoCloseable {
    static {
        // Condition waits in these tests end in milliseconds; poll often so the suite stays short.
        Awaitility.setDefaultPollInterval(Duration.ofMillis(5));
        Awaitility.setDefaultPollDelay(Duration.ZERO);
        Awaitility.setDefaultTimeout(Duration.ofSeconds(20));
    }

    static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();
    static final TypeRegistry TYPES = TypeRegistry.builder().add(Step.getDefaultInstance()).build();

    final String subscription = "copy-" + UUID.randomUUID().toString().substring(0, 8);
    final InMemoryDeadLetters deadLetters = new InMemoryDeadLetters();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    /** Steps applied per key, in the order handlers returned Applied. */
    final Map<String, List<Long>> applied = new ConcurrentHashMap<>();
    final Set<String> appliedIds = ConcurrentHashMap.newKeySet();
    final AckLog acks = new AckLog(id -> appliedIds.contains(id) || isDeadLettered(id));
    Dispatcher dispatcher;

    static Envelope event(String key, long step) {
        return Events.create("test", key, step, Step.newBuilder().setKey(key).setStep(step).build());
    }

    static HandlerOptions fast() {
        return HandlerOptions.custom()
                .timeout(Duration.ofSeconds(30))
                .retryPolicy(RetryPolicy.custom().maxAttempts(5).initialBackoff(Duration.ofMillis(1))
                        .maxBackoff(Duration.ofMillis(5)).build())
                .build();
    }

    Dispatcher.Builder builder(HandlerRegistry handlers) {
        return Dispatcher.builder(subscription).handlers(handlers).types(TYPES).deadLetters(deadLetters)
                .meterRegistry(meters).lanes(4).shutdownTimeout(Duration.ofSeconds(5));
    }

    Fixture start(Dispatcher.Builder builder) {
        dispatcher = builder.build();
        return this;
    }

    /** Records an applied step; call from a handler right before returning Applied. */
    void record(Step step, Envelope envelope) {
        applied.computeIfAbsent(step.getKey(), k -> Collections.synchronizedList(new ArrayList<>())).add(step.getStep());
        appliedIds.add(envelope.getId());
    }

    List<Long> appliedSteps(String key) {
        List<Long> steps = applied.get(key);
        if (steps == null) {
            return List.of();
        }
        synchronized (steps) {
            return List.copyOf(steps);
        }
    }

    boolean isDeadLettered(String eventId) {
        return deadLetters.list(subscription).stream().anyMatch(l -> l.eventId().equals(eventId));
    }

    Delivery delivery(String partition, Envelope envelope) {
        return acks.next(partition, envelope.getId(), CODEC.encode(envelope));
    }

    void deliver(String partition, Envelope envelope) throws InterruptedException {
        dispatcher.onDelivery(delivery(partition, envelope));
    }

    /** Delivers each partition's events in order, one feeding thread per partition (partition p is "p" + p). */
    void deliverConcurrently(Map<Integer, List<Envelope>> byPartition) throws InterruptedException {
        List<Thread> feeders = new ArrayList<>();
        Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
        byPartition.forEach((p, events) -> feeders.add(new Thread(() -> {
            try {
                for (Envelope e : events) {
                    deliver("p" + p, e);
                }
            } catch (Throwable t) {
                failures.put(p, t);
            }
        }, "test-feeder-" + p)));
        feeders.forEach(Thread::start);
        for (Thread t : feeders) {
            t.join();
        }
        if (!failures.isEmpty()) {
            throw new AssertionError("feeding threads failed: " + failures);
        }
    }

    double counter(String name) {
        return meters.find(name).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Override
    public void close() {
        if (dispatcher != null) {
            dispatcher.close();
        }
    }
}
