package io.eventsync.transport;

/** A running consumer of one {@link SubscriptionSpec}. */
public interface Subscription extends AutoCloseable {

    SubscriptionSpec spec();

    /**
     * Stops fetching; deliveries not acknowledged by then are delivered again later (to this group).
     * Idempotent.
     */
    @Override
    void close();
}
