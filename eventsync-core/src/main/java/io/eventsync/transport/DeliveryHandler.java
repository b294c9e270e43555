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

    /**
     * The subscription stopped delivering for a reason retrying cannot fix, and stays stopped until an
     * operator acts: e.g. an HTTP feed no longer retains the subscription's position (410). The
     * handler makes it visible ({@code Dispatcher.health} reports it until
     * {@link #onSubscriptionRecovered}). Called from the transport's thread; must not block.
     */
    default void onSubscriptionFailed(SubscriptionSpec spec, Exception failure) {}

    /** The subscription an earlier {@link #onSubscriptionFailed} named delivers again. */
    default void onSubscriptionRecovered(SubscriptionSpec spec) {}

    /**
     * The subscription that delivers to this handler, once, before its first delivery (or as soon as the
     * transport made it): a handler that reports lag asks it for {@link Subscription#lag()}. Transports
     * that do not call it leave the handler counting only what it holds itself.
     */
    default void onSubscribed(Subscription subscription) {}
}
