package io.eventsync.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.StringValue;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Transport} must have, run against a real broker by each transport module:
 * extend this class, implement {@link #newTransport()} (and {@link #restartBroker()} where the broker can
 * be restarted or the connection dropped), and add the core test-jar as a test dependency:
 *
 * <pre>{@code
 * <dependency>
 *   <groupId>io.eventsync</groupId><artifactId>eventsync-core</artifactId>
 *   <type>test-jar</type><scope>test</scope>
 * </dependency>
 * }</pre>
 *
 * <p>Every test uses its own topic and group names ({@link #unique}). Events carry a
 * {@code google.protobuf.StringValue} payload; raw tests read the bytes with {@code Envelope.parseFrom}.
 * The oversize test expects the failure message to contain the event's size and the limit as plain digits.
 */
public abstract class TransportContract {

    /** A client connected to the broker under test. Called before each test and after {@link #restartBroker()}. */
    protected abstract Transport newTransport() throws Exception;

    /**
     * Stops and restarts the broker, or drops and re-establishes the connection to it. The suite closes
     * its transport before calling this and opens a new one with {@link #newTransport()} after, so the
     * default (nothing more) tests reconnecting a client.
     */
    protected void restartBroker() throws Exception {}

    /** Waits until a new subscription receives what is published from now on (e.g. a Kafka group assignment). */
    protected void awaitReady(Subscription subscription) throws Exception {}

    /** How long a test waits for deliveries. */
    protected Duration awaitTimeout() {
        return Duration.ofSeconds(30);
    }

    /** A name unique to this test run, valid as topic or group on every transport. */
    protected static String unique(String prefix) {
        return TestEvents.unique(prefix);
    }

    protected Transport transport;

    @BeforeEach
    void openTransport() throws Exception {
        transport = newTransport();
    }

    @AfterEach
    void closeTransport() {
        if (transport != null) {
            transport.close();
        }
    }

    @Test
    public void eventsOfOneKeyArriveInPublishOrderUnderManyKeys() throws Exception {
        String topic = unique("order");
        Collector collector = new Collector(Ack.ALL);
        Subscription sub = transport.subscribe(SubscriptionSpec.fanout(topic, unique("g")), collector);
        awaitReady(sub);
        List<OutboundEvent> events = new ArrayList<>();
        for (int seq = 1; seq <= 20; seq++) {
            for (int k = 0; k < 50; k++) {
                events.add(event("key-" + k, seq));
            }
        }
        publishAll(topic, events);

        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(collector.ids()).hasSize(events.size()));
        Map<String, List<Long>> byKey = collector.firstSeenSequencesByKey();
        assertThat(byKey).hasSize(50);
        List<Long> expected = new ArrayList<>();
        for (long seq = 1; seq <= 20; seq++) {
            expected.add(seq);
        }
        byKey.forEach((key, seqs) -> assertThat(seqs).as("sequences of %s in arrival order", key).isEqualTo(expected));
    }

    @Test
    public void fanOutDeliversEveryEventToEveryGroup() throws Exception {
        String topic = unique("fanout");
        Collector first = new Collector(Ack.ALL);
        Collector second = new Collector(Ack.ALL);
        awaitReady(transport.subscribe(SubscriptionSpec.fanout(topic, unique("g1")), first));
        awaitReady(transport.subscribe(SubscriptionSpec.fanout(topic, unique("g2")), second));
        List<OutboundEvent> events = manyKeys(100);
        publishAll(topic, events);

        Set<String> all = idsOf(events);
        await().atMost(awaitTimeout()).untilAsserted(() -> {
            assertThat(first.ids()).isEqualTo(all);
            assertThat(second.ids()).isEqualTo(all);
        });
    }

    @Test
    public void queueModeDeliversEachEventToExactlyOneOfTwoConsumers() throws Exception {
        String topic = unique("queue");
        String group = unique("workers");
        Collector first = new Collector(Ack.ALL);
        Collector second = new Collector(Ack.ALL);
        awaitReady(transport.subscribe(SubscriptionSpec.queue(topic, group), first));
        awaitReady(transport.subscribe(SubscriptionSpec.queue(topic, group), second));
        List<OutboundEvent> events = manyKeys(200);
        publishAll(topic, events);

        Set<String> all = idsOf(events);
        await().atMost(awaitTimeout()).untilAsserted(() -> {
            Set<String> union = new HashSet<>(first.ids());
            union.addAll(second.ids());
            assertThat(union).isEqualTo(all);
        });
        Set<String> both = new HashSet<>(first.ids());
        both.retainAll(second.ids());
        assertThat(both).as("events delivered to both competing consumers").isEmpty();
        assertThat(first.deliveries() + second.deliveries()).isEqualTo(events.size());
    }

    @Test
    public void unacknowledgedEventsAreRedeliveredToTheNextConsumerAfterACrash() throws Exception {
        String topic = unique("crash");
        String group = unique("g");
        List<OutboundEvent> events = manyKeys(60);
        publishAll(topic, events);

        Collector crashing = new Collector(Ack.FIRST_20);
        Subscription sub = transport.subscribe(SubscriptionSpec.queue(topic, group), crashing);
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(crashing.ids()).hasSize(events.size()));
        sub.close(); // a crash: 40 events were received and never acknowledged

        Collector next = new Collector(Ack.ALL);
        transport.subscribe(SubscriptionSpec.queue(topic, group), next);
        Set<String> unacked = new HashSet<>(idsOf(events));
        unacked.removeAll(crashing.ackedIds());
        assertThat(unacked).hasSize(events.size() - 20);
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(next.ids()).containsAll(unacked));
    }

    @Test
    public void noEventIsLostAcrossABrokerRestart() throws Exception {
        String topic = unique("restart");
        String group = unique("g");
        Collector collector = new Collector(Ack.ALL);
        Subscription sub = transport.subscribe(SubscriptionSpec.fanout(topic, group), collector);
        awaitReady(sub);
        List<OutboundEvent> before = batch("a", 30);
        publishAll(topic, before);
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(collector.ids()).containsAll(idsOf(before)));
        sub.close();
        List<OutboundEvent> whileAway = batch("b", 30); // published with no consumer attached
        publishAll(topic, whileAway);

        transport.close();
        transport = null;
        restartBroker();
        transport = newTransport();

        awaitReady(transport.subscribe(SubscriptionSpec.fanout(topic, group), collector));
        List<OutboundEvent> after = batch("c", 30);
        publishAll(topic, after);
        Set<String> all = new HashSet<>(idsOf(before));
        all.addAll(idsOf(whileAway));
        all.addAll(idsOf(after));
        await().atMost(awaitTimeout()).untilAsserted(() -> assertThat(collector.ids()).containsAll(all));
    }

    @Test
    public void aPoisonEventGoesToTheDeadLettersWhileOtherEventsFlow() throws Exception {
        String topic = unique("poison");
        String subscription = unique("copy");
        InMemoryDeadLetters deadLetters = new InMemoryDeadLetters();
        Set<String> applied = ConcurrentHashMap.newKeySet();
        Dispatcher dispatcher = Dispatcher.builder(subscription)
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .handlers(HandlerRegistry.builder().on(StringValue.class, (payload, ctx) -> {
                    applied.add(ctx.envelope().getId());
                    return Outcome.applied();
                }).build())
                .deadLetters(deadLetters)
                .lanes(4)
                .build();
        try (dispatcher) {
            awaitReady(transport.subscribe(SubscriptionSpec.fanout(topic, subscription), dispatcher));
            EnvelopeCodec codec = EnvelopeCodec.defaults();
            List<OutboundEvent> good = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Envelope e = Events.create("contract", "key-" + (i % 8), i / 8 + 1, StringValue.of("v" + i));
                good.add(new OutboundEvent(e, codec.encode(e)));
            }
            byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
            // A key of its own: a transport that carries the key (a header, the record key) parks it, since
            // that key is trustworthy even when the bytes are not; the other keys must flow either way.
            Envelope poisonKey = Events.create("contract", "poison-0", 1, StringValue.of("poison"));
            List<OutboundEvent> all = new ArrayList<>(good.subList(0, 20));
            all.add(new OutboundEvent(poisonKey, garbage));
            all.addAll(good.subList(20, 40));
            publishAll(topic, all);

            await().atMost(awaitTimeout()).untilAsserted(() -> {
                assertThat(applied).isEqualTo(idsOf(good));
                assertThat(deadLetters.list(subscription)).hasSize(1);
            });
            DeadLetter letter = deadLetters.list(subscription).get(0);
            assertThat(letter.kind()).isEqualTo(DeadLetter.Kind.FAILED);
            assertThat(letter.bytes()).isEqualTo(garbage);
            assertThat(letter.reason()).isNotBlank();
            assertThat(letter.key()).as("the transport's key, or none").isIn("poison-0", "");
        }
    }

    @Test
    public void anOversizeEventIsRefusedWithAClearError() throws Exception {
        String topic = unique("big");
        try (Publisher publisher = transport.publisher(topic)) {
            int limit = publisher.maxEventBytes();
            Envelope envelope = envelope("big", 1);
            byte[] tooBig = new byte[limit + 1];
            Throwable failure = null;
            try {
                publisher.send(new OutboundEvent(envelope, tooBig)).get(awaitTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (RuntimeException e) {
                failure = e;
            }
            assertThat(failure).as("sending %s bytes over a limit of %s", limit + 1, limit).isNotNull();
            assertThat(failure.getMessage()).contains(String.valueOf(limit + 1)).contains(String.valueOf(limit));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** An envelope with a StringValue payload, built without the codec (raw transport tests). */
    protected static Envelope envelope(String key, long sequence) {
        return TestEvents.envelope(key, sequence);
    }

    protected static OutboundEvent event(String key, long sequence) {
        return TestEvents.event(key, sequence);
    }

    private static List<OutboundEvent> manyKeys(int n) {
        List<OutboundEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(event("key-" + (i % 17), i / 17 + 1));
        }
        return events;
    }

    private static List<OutboundEvent> batch(String prefix, int n) {
        List<OutboundEvent> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add(event(prefix + "-" + (i % 5), i / 5 + 1));
        }
        return events;
    }

    protected void publishAll(String topic, List<OutboundEvent> events) throws Exception {
        try (Publisher publisher = transport.publisher(topic)) {
            TestEvents.sendAll(publisher, events, awaitTimeout());
        }
    }

    protected static Set<String> idsOf(List<OutboundEvent> events) {
        return TestEvents.idsOf(events);
    }

    private enum Ack { ALL, FIRST_20 }

    /** Records every delivery; acknowledges all of them, or only the first 20 (a consumer about to crash). */
    private static final class Collector implements DeliveryHandler {
        private final Ack ack;
        private final List<Envelope> received = Collections.synchronizedList(new ArrayList<>());
        private final Set<String> acked = ConcurrentHashMap.newKeySet();
        private final AtomicInteger count = new AtomicInteger();

        Collector(Ack ack) {
            this.ack = ack;
        }

        @Override
        public void onDelivery(Delivery delivery) {
            Envelope envelope;
            try {
                envelope = Envelope.parseFrom(delivery.bytes());
            } catch (InvalidProtocolBufferException e) {
                throw new AssertionError("transport delivered bytes that are not the envelope sent", e);
            }
            received.add(envelope);
            if (ack == Ack.ALL || count.incrementAndGet() <= 20) {
                delivery.ack();
                acked.add(envelope.getId());
            }
        }

        Set<String> ids() {
            synchronized (received) {
                Set<String> ids = new HashSet<>();
                received.forEach(e -> ids.add(e.getId()));
                return ids;
            }
        }

        int deliveries() {
            return received.size();
        }

        Set<String> ackedIds() {
            return acked;
        }

        /** Per key, the sequences in the order their events were first received (redeliveries ignored). */
        Map<String, List<Long>> firstSeenSequencesByKey() {
            synchronized (received) {
                return TestEvents.firstSeenSequencesByKey(received);
            }
        }
    }
}
