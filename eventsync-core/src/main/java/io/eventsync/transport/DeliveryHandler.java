package io.eventsync.transport;

/**
 * Receives deliveries from a subscription. Called from the transport's consumer thread(s); may
 * block to push back when too much is in flight (the transport then stops fetching).
 */
@FunctionalInterface
public interface DeliveryHandler {
    void onDelivery(Delivery delivery) throws InterruptedException;
}
