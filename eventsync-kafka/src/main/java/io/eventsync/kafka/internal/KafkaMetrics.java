package io.eventsync.kafka.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.function.Supplier;

/** The Kafka transport's meters, {@code eventsync.kafka.*}, tagged with {@code transport=kafka} and topic/group. */
public final class KafkaMetrics {
    private final MeterRegistry registry;

    public KafkaMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Meters of one publisher. */
    public Publishing publishing(String topic) {
        Tags tags = Tags.of("transport", "kafka", "topic", topic);
        return new Publishing(
                Counter.builder("eventsync.kafka.sent").description("events the broker acknowledged")
                        .tags(tags).tag("outcome", "ok").register(registry),
                Counter.builder("eventsync.kafka.sent").description("sends that failed after the producer's retries")
                        .tags(tags).tag("outcome", "failed").register(registry),
                Counter.builder("eventsync.kafka.sent").description("events refused before sending (over maxEventBytes)")
                        .tags(tags).tag("outcome", "refused").register(registry));
    }

    /** Meters of one subscription. */
    public Consuming consuming(String topic, String group, Supplier<Number> queued) {
        Tags tags = Tags.of("transport", "kafka", "topic", topic, "group", group);
        Gauge.builder("eventsync.kafka.queued", queued).description("records fetched and not yet handed out")
                .tags(tags).register(registry);
        return new Consuming(
                Counter.builder("eventsync.kafka.delivered").description("records handed to the delivery handler")
                        .tags(tags).register(registry),
                Counter.builder("eventsync.kafka.paused").description("times fetching paused for backpressure")
                        .tags(tags).register(registry),
                Timer.builder("eventsync.kafka.revoke.wait")
                        .description("time a rebalance waited for in-flight deliveries of revoked partitions")
                        .tags(tags).register(registry));
    }

    public record Publishing(Counter ok, Counter failed, Counter refused) {
    }

    public record Consuming(Counter delivered, Counter paused, Timer revokeWait) {
    }
}
