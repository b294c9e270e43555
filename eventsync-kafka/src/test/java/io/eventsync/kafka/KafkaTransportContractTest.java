package io.eventsync.kafka;

import com.google.protobuf.StringValue;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The transport contract against a real KRaft broker in a child JVM. */
class KafkaTransportContractTest extends TransportContract {
    private static LocalKafka kafka;

    @BeforeAll
    static void startBroker() {
        kafka = SharedKafka.get();
    }

    @Override
    protected Transport newTransport() {
        // Four partitions, so that two competing consumers of one group both get work.
        return KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).partitions(4).build();
    }

    @Override
    protected void restartBroker() {
        kafka.restart();
    }

    /** Ready once the group has given this consumer partitions (a rebalance, when a second member joins). */
    @Override
    protected void awaitReady(Subscription subscription) {
        await().atMost(awaitTimeout())
                .until(() -> !((KafkaSubscription) subscription).assignedPartitions().isEmpty());
    }

    /**
     * The contract's poison case, as Kafka must pass it: the garbage record carries its record key
     * ({@code key-0}, the key the relay sent it under), a trustworthy key that the dispatcher parks, so
     * key-0's later events wait as HELD letters behind it while every other key flows. The shared case
     * expects key-0 to flow on, which holds only for transports that carry no key of their own.
     */
    @Override
    @Test
    public void aPoisonEventGoesToTheDeadLettersWhileOtherEventsFlow() throws Exception {
        String topic = unique("poison");
        String subscription = unique("copy");
        InMemoryDeadLetters deadLetters = new InMemoryDeadLetters();
        Set<String> applied = ConcurrentHashMap.newKeySet();
        try (Dispatcher dispatcher = Dispatcher.builder(subscription)
                .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                .handlers(HandlerRegistry.builder().on(StringValue.class, (payload, ctx) -> {
                    applied.add(ctx.envelope().getId());
                    return Outcome.applied();
                }).build())
                .deadLetters(deadLetters)
                .lanes(4)
                .build()) {
            awaitReady(transport.subscribe(SubscriptionSpec.fanout(topic, subscription), dispatcher));
            EnvelopeCodec codec = EnvelopeCodec.defaults();
            List<OutboundEvent> good = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Envelope e = Events.create("contract", "key-" + (i % 8), i / 8 + 1, StringValue.of("v" + i));
                good.add(new OutboundEvent(e, codec.encode(e)));
            }
            byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
            Envelope poisonKey = Events.create("contract", "key-0", 99, StringValue.of("poison"));
            List<OutboundEvent> all = new ArrayList<>(good.subList(0, 20));
            all.add(new OutboundEvent(poisonKey, garbage));
            all.addAll(good.subList(20, 40));
            publishAll(topic, all);

            List<OutboundEvent> heldBehind = good.subList(20, 40).stream()
                    .filter(e -> e.envelope().getSubject().equals("key-0")).toList();
            List<OutboundEvent> flowing = new ArrayList<>(good);
            flowing.removeAll(heldBehind);
            await().atMost(awaitTimeout()).untilAsserted(() -> {
                assertThat(applied).isEqualTo(idsOf(flowing));
                assertThat(deadLetters.list(subscription)).hasSize(1 + heldBehind.size());
            });
            List<DeadLetter> failed = deadLetters.list(subscription).stream()
                    .filter(l -> l.kind() == DeadLetter.Kind.FAILED).toList();
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0).bytes()).isEqualTo(garbage);
            assertThat(failed.get(0).key()).isEqualTo("key-0");
            assertThat(failed.get(0).reason()).isNotBlank();
            assertThat(failed.get(0).origin()).startsWith("kafka topic " + topic + " partition ");
            assertThat(deadLetters.list(subscription)).filteredOn(l -> l.kind() == DeadLetter.Kind.HELD)
                    .extracting(DeadLetter::eventId).containsExactlyInAnyOrderElementsOf(idsOf(heldBehind));
        }
    }

    @Override
    protected Duration awaitTimeout() {
        return Duration.ofSeconds(60);
    }
}
