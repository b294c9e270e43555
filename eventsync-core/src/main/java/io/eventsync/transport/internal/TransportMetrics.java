package io.eventsync.transport.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * A broker transport's meters, created once per publisher or subscription so the hot path only increments:
 * {@code eventsync.transport.sent} (result ok|failed|duplicate), {@code eventsync.transport.delivered},
 * {@code eventsync.transport.redelivered} and {@code eventsync.transport.reconnects}, tagged with the
 * transport, topic and group.
 *
 * <p>Shared by the transport modules (NATS, RabbitMQ), which each pass their own {@code transport} tag.
 * Machinery, not public API: it may change without notice.
 */
public final class TransportMetrics {
    private final MeterRegistry registry;
    private final String transport;

    /**
     * @param registry  where the meters are registered
     * @param transport the value of the {@code transport} tag, e.g. {@code nats}
     */
    public TransportMetrics(MeterRegistry registry, String transport) {
        this.registry = registry;
        this.transport = transport;
    }

    public Sent sent(String topic) {
        return new Sent(sentCounter(topic, "ok"), sentCounter(topic, "failed"), sentCounter(topic, "duplicate"));
    }

    public Received received(String topic, String group) {
        return new Received(
                Counter.builder("eventsync.transport.delivered").tag("transport", transport).tag("topic", topic)
                        .tag("group", group).description("Events handed to the consumer").register(registry),
                Counter.builder("eventsync.transport.redelivered").tag("transport", transport).tag("topic", topic)
                        .tag("group", group).description("Deliveries the broker marked as repeated").register(registry));
    }

    public Counter reconnects() {
        return Counter.builder("eventsync.transport.reconnects").tag("transport", transport)
                .description("Connections recovered after a drop").register(registry);
    }

    private Counter sentCounter(String topic, String result) {
        return Counter.builder("eventsync.transport.sent").tag("transport", transport).tag("topic", topic)
                .tag("result", result).description("Sends completed, by result").register(registry);
    }

    /** Counters of one publisher. */
    public record Sent(Counter ok, Counter failed, Counter duplicate) {
    }

    /** Counters of one subscription. */
    public record Received(Counter delivered, Counter redelivered) {
        public void count(int deliveryCount) {
            delivered.increment();
            if (deliveryCount > 1) {
                redelivered.increment();
            }
        }
    }
}
