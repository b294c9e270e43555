package io.eventsync.rabbitmq.internal;

import io.eventsync.EventsyncException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.internal.TransportMetrics;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes a group's queues, one channel per queue so that each queue's delivery tags form the
 * monotonic offsets of its partition (the recovering client keeps them increasing across a
 * reconnect, and drops acks for tags of the dead channel: those events come again). Callbacks of
 * one channel run one at a time, in queue order; the handler may block, which holds back only that
 * queue (prefetch bounds what the broker sends ahead).
 */
public final class RabbitSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(RabbitSubscription.class);

    private final SubscriptionSpec spec;
    private final TransportMetrics.Received received;
    private final List<Channel> channels = new ArrayList<>();
    private volatile boolean closed;

    private RabbitSubscription(SubscriptionSpec spec, TransportMetrics.Received received) {
        this.spec = spec;
        this.received = received;
    }

    public static RabbitSubscription start(Connection connection, SubscriptionSpec spec, List<String> queues,
                                           DeliveryHandler handler, int prefetch,
                                           TransportMetrics.Received received) {
        RabbitSubscription subscription = new RabbitSubscription(spec, received);
        try {
            for (String queue : queues) {
                Channel channel = connection.createChannel();
                subscription.channels.add(channel);
                channel.basicQos(prefetch);
                channel.basicConsume(queue, false, "eventsync-" + spec.group(),
                        (tag, message) -> subscription.deliver(handler, queue, channel, message.getEnvelope(),
                                message.getProperties().getHeaders(), message.getBody()),
                        tag -> log.warn("Broker cancelled the consumer of queue {} (queue deleted?)", queue));
            }
        } catch (IOException | RuntimeException e) {
            subscription.close();
            throw new EventsyncException("Cannot consume the queues " + queues + " of group " + spec.group() + ": "
                    + e.getMessage(), e);
        }
        return subscription;
    }

    private void deliver(DeliveryHandler handler, String queue, Channel channel, Envelope envelope,
                         Map<String, Object> headers, byte[] body) {
        if (closed) {
            return; // not acked: requeued when the channel closes
        }
        int deliveryCount = deliveryCount(envelope, headers);
        received.count(deliveryCount);
        try {
            handler.onDelivery(new RabbitDelivery(queue, channel, envelope.getDeliveryTag(), deliveryCount, body));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Not acked: redelivered when this channel closes or recovers. Nothing is lost.
            log.error("Delivery handler failed on queue {} offset {}; the event stays unacked",
                    queue, envelope.getDeliveryTag(), e);
        }
    }

    /** Quorum queues count earlier deliveries in x-delivery-count; classic queues only flag a redelivery. */
    private static int deliveryCount(Envelope envelope, Map<String, Object> headers) {
        Object count = headers == null ? null : headers.get("x-delivery-count");
        if (count instanceof Number n) {
            return n.intValue() + 1;
        }
        return envelope.isRedeliver() ? 2 : 1;
    }

    /** True once {@link #close()} ran; the transport then forgets this resource. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    /** Closing the channels requeues whatever is unacked; the next consumer of each queue gets it first. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Channel channel : channels) {
            try {
                channel.close();
            } catch (IOException | TimeoutException | RuntimeException e) {
                log.debug("Closing a consumer channel of group {} failed", spec.group(), e);
            }
        }
    }

    @Override
    public String toString() {
        return "RabbitSubscription[" + spec + "]";
    }

    private record RabbitDelivery(String partition, Channel channel, long offset, int deliveryCount, byte[] bytes)
            implements Delivery {
        @Override
        public void ack() {
            try {
                channel.basicAck(offset, false);
            } catch (IOException | RuntimeException e) {
                // Channel gone: the broker requeued the event and delivers it again; the consumer dedups.
                log.debug("Ack of queue {} offset {} not sent: {}", partition, offset, e.getMessage());
            }
        }
    }
}
