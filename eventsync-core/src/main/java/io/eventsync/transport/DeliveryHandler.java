package io.eventsync.transport;

/**
 * Receives deliveries from a subscription. Called from the transport's consumer thread(s); may
 * block to push back when too much is in flight (the transport then stops fetching).
 */
@FunctionalInterface
public interface DeliveryHandler {
    void onDelivery(Delivery delivery) throws InterruptedException;

    /**
     * This consumer no longer owns these partitions ({@link Delivery#partition()} names): a rebalance
     * gave them to another member, or they were lost. What the handler keeps per partition (the
     * freshness of its heartbeats) no longer describes this consumer. Transports whose consumers keep
     * their partitions call nothing.
     */
    default void onPartitionsReleased(java.util.Collection<String> partitions) {}
}
