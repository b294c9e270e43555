package io.eventsync.transport;

/**
 * A way to move encoded events from a relay to consumers: the embedded log, Kafka, NATS JetStream,
 * RabbitMQ, an HTTP feed, or the in-process bus. Every implementation passes the same contract
 * test suite (per-key order, fan-out and queue modes, redelivery, no loss, size limit).
 */
public interface Transport extends AutoCloseable {

    /** Short name used in metrics tags and logs: {@code log}, {@code kafka}, {@code nats}, ... */
    String name();

    /** A publisher for one topic, creating the topic if the transport needs that. */
    Publisher publisher(String topic);

    /** Starts consuming; deliveries go to {@code handler} until the subscription is closed. */
    Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler);

    /** Closes every publisher and subscription made by this transport. */
    @Override
    void close();
}
