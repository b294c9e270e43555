package io.eventsync.transport;

import java.util.Map;
import java.util.Optional;

/** A running consumer of one {@link SubscriptionSpec}. */
public interface Subscription extends AutoCloseable {

    SubscriptionSpec spec();

    /**
     * Events not yet acknowledged by this consumer, per partition it owns ({@link Delivery#partition()}
     * names): those delivered and in flight plus, where the broker tells, those still waiting to be
     * delivered (Kafka: end offset minus the first unacknowledged offset; the embedded log: head minus
     * the group's position; NATS JetStream: the consumer's pending plus ack-pending; RabbitMQ: the queue's
     * ready messages plus this consumer's unacknowledged ones). Empty when the transport cannot tell,
     * the default: the dispatcher then counts only the deliveries it holds.
     *
     * <p>May do I/O (a query, a broker request) with a short deadline, or return what the transport's
     * own thread last measured; the dispatcher calls it about once a second from one thread, never on a
     * delivery path. A failure is reported as empty, not thrown.
     */
    default Optional<Map<String, Long>> lag() {
        return Optional.empty();
    }

    /**
     * Stops fetching; deliveries not acknowledged by then are delivered again later (to this group).
     * Idempotent.
     */
    @Override
    void close();
}
