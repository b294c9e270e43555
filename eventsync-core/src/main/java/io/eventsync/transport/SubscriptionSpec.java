package io.eventsync.transport;

import io.eventsync.ConfigException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What to consume: a topic, the consumer group that owns the position, and the mode.
 *
 * @param topic the topic (Kafka topic, NATS stream subject, RabbitMQ exchange, log name)
 * @param group the consumer group; in {@link DeliveryMode#FANOUT} each group gets every event
 * @param mode  fan-out (event bus) or queue (competing consumers)
 */
public record SubscriptionSpec(String topic, String group, DeliveryMode mode) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    public SubscriptionSpec {
        Objects.requireNonNull(mode, "mode");
        requireName("topic", topic);
        requireName("group", group);
    }

    public static SubscriptionSpec fanout(String topic, String group) {
        return new SubscriptionSpec(topic, group, DeliveryMode.FANOUT);
    }

    public static SubscriptionSpec queue(String topic, String group) {
        return new SubscriptionSpec(topic, group, DeliveryMode.QUEUE);
    }

    /** Names travel into broker resources and SQL, so they are restricted to a portable alphabet. */
    static void requireName(String field, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw new ConfigException(field + " must be 1-200 characters of letters, digits, '.', '_' or '-'"
                    + " starting with a letter or digit, but was: " + value);
        }
    }
}
