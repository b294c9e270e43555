package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import io.eventsync.transport.Delivery;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A quick figure, not a test: publish throughput of one pipelined publisher to a LocalKafka (acks=all,
 * idempotent), then the rate one subscription drains the topic at.
 *
 * <pre>java -cp eventsync-kafka/target/test-classes:eventsync-kafka/target/classes:$(deps) \
 *   io.eventsync.kafka.KafkaThroughputMain [events] [BINARY|STRUCTURED] [name=value,...]</pre>
 */
public final class KafkaThroughputMain {
    private KafkaThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        KafkaEncoding encoding = args.length > 1 ? KafkaEncoding.valueOf(args[1]) : KafkaEncoding.BINARY;
        List<OutboundEvent> outbound = new ArrayList<>(events);
        for (int i = 0; i < events; i++) {
            outbound.add(TestEvents.outbound(TestEvents.envelope("order-" + (i % 1000), i + 1, "payload of event " + i)));
        }
        int bytes = outbound.get(0).bytes().length;
        try (LocalKafka kafka = LocalKafka.start();
             KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                     .partitions(4).encoding(encoding).clientProperties(clientProperties(args)).build()) {
            String topic = TestEvents.unique("bench");
            publish(transport, topic, outbound.subList(0, Math.min(20_000, events)), "warm-up");
            long published = publish(transport, topic, outbound, "measured");
            System.out.printf("publish: %d events of %d bytes (%s) in %d ms = %.0f events/s%n",
                    events, bytes, encoding, published / 1_000_000, events / (published / 1e9));

            CountDownLatch drained = new CountDownLatch(events + Math.min(20_000, events));
            long[] first = new long[1];
            try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, "bench"),
                    (Delivery delivery) -> {
                        if (first[0] == 0) {
                            first[0] = System.nanoTime(); // after the group join: measure the flow only
                        }
                        delivery.ack();
                        drained.countDown();
                    })) {
                if (!drained.await(5, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("consumer did not drain the topic");
                }
            }
            long consumed = System.nanoTime() - first[0];
            long total = events + Math.min(20_000, events);
            System.out.printf("consume: %d events in %d ms = %.0f events/s (one subscription, acks committed)%n",
                    total, consumed / 1_000_000, total / (consumed / 1e9));
        }
    }

    /** Optional third argument: Kafka client properties as {@code name=value,name=value}. */
    private static java.util.Map<String, String> clientProperties(String[] args) {
        java.util.Map<String, String> properties = new java.util.HashMap<>();
        if (args.length > 2) {
            for (String pair : args[2].split(",")) {
                String[] nameValue = pair.split("=", 2);
                properties.put(nameValue[0], nameValue[1]);
            }
        }
        return properties;
    }

    private static long publish(KafkaTransport transport, String topic, List<OutboundEvent> events, String label)
            throws InterruptedException {
        Semaphore inFlight = new Semaphore(20_000); // a relay's bounded pipeline
        long start = System.nanoTime();
        try (Publisher publisher = transport.publisher(topic)) {
            for (OutboundEvent event : events) {
                inFlight.acquire();
                publisher.send(event).whenComplete((ok, error) -> {
                    if (error != null) {
                        System.err.println(label + " send failed: " + error);
                    }
                    inFlight.release();
                });
            }
        }
        return System.nanoTime() - start;
    }
}
