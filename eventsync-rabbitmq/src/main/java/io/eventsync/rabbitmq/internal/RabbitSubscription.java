package io.eventsync.rabbitmq.internal;

import io.eventsync.EventsyncException;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.internal.TransportMetrics;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Consumes a group's queues, one {@link PartitionConsumer} (and channel) per queue so that each queue's
 * delivery tags form the monotonic offsets of its partition (the recovering client keeps them
 * increasing across a reconnect, and drops acks for tags of the dead channel: those events come
 * again). Callbacks of one channel run one at a time, in queue order; the handler may block, which
 * holds back only that queue (prefetch bounds what the broker sends ahead).
 */
public final class RabbitSubscription implements Subscription {
    private final SubscriptionSpec spec;
    private final Connection connection;
    private final List<PartitionConsumer> partitions = new ArrayList<>();
    /** Restarts the consumers once a dropped connection is back with its channels (not before: see ChannelsOnlyRecovery). */
    private final RecoveryListener restart = new RecoveryListener() {
        @Override
        public void handleRecovery(Recoverable recoverable) {
            partitions.forEach(PartitionConsumer::restartAfterRecovery);
        }

        @Override
        public void handleRecoveryStarted(Recoverable recoverable) {
        }
    };
    private volatile boolean closed;

    private RabbitSubscription(SubscriptionSpec spec, Connection connection) {
        this.spec = spec;
        this.connection = connection;
    }

    /**
     * @param queues       the group's queues, one per partition
     * @param parkedQueues per partition, the queue of events parked before the group existed (read first
     *                     when it exists)
     */
    public static RabbitSubscription start(Connection connection, SubscriptionSpec spec, List<String> queues,
                                           List<String> parkedQueues, DeliveryHandler handler, int prefetch,
                                           TransportMetrics.Received received) {
        RabbitSubscription subscription = new RabbitSubscription(spec, connection);
        if (connection instanceof Recoverable recoverable) {
            recoverable.addRecoveryListener(subscription.restart);
        }
        try {
            for (int n = 0; n < queues.size(); n++) {
                PartitionConsumer partition = new PartitionConsumer(connection, spec.group(), queues.get(n),
                        parkedQueues.get(n), handler, prefetch, received);
                subscription.partitions.add(partition);
                partition.start();
            }
        } catch (IOException | RuntimeException e) {
            subscription.close();
            throw new EventsyncException("Cannot consume the queues " + queues + " of group " + spec.group() + ": "
                    + e.getMessage(), e);
        }
        return subscription;
    }

    /** True once {@link #close()} ran; the transport then forgets this resource. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    /**
     * Per queue of the group: its ready messages (a passive declare on a channel of its own, so that a
     * missing queue cannot close a consuming channel) plus the deliveries this consumer handed out and has
     * not acknowledged. AMQP tells no more: messages the client has received but not yet handed to the
     * handler (at most the prefetch minus one per queue) are in neither figure, so it can be that low.
     * In queue mode the ready count is the whole queue's, the same for every instance of the group.
     */
    @Override
    public java.util.Optional<java.util.Map<String, Long>> lag() {
        if (closed) {
            return java.util.Optional.empty();
        }
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        try (com.rabbitmq.client.Channel probe = connection.createChannel()) {
            for (PartitionConsumer p : partitions) {
                out.put(p.queue(), probe.queueDeclarePassive(p.queue()).getMessageCount() + p.handedUnacked());
            }
        } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
            return java.util.Optional.empty(); // down or recovering, or a queue deleted: unknown this time
        }
        return java.util.Optional.of(out);
    }

    /** Closing the channels requeues whatever is unacked; the next consumer of each queue gets it first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (connection instanceof Recoverable recoverable) {
            recoverable.removeRecoveryListener(restart);
        }
        partitions.forEach(PartitionConsumer::close);
    }

    @Override
    public String toString() {
        return "RabbitSubscription[" + spec + "]";
    }
}
