package io.eventsync.rabbitmq.internal;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.impl.recovery.AutorecoveringChannel;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.internal.TransportMetrics;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one partition of a group on a channel of its own, so that the channel's delivery tags are
 * the partition's offsets: first the partition's parked queue, when one exists, up to its end marker,
 * then the group's queue (see {@link RabbitTopology#moveParked}).
 *
 * <p>Invariant: this consumer takes nothing from the group's queue before it has handed over every
 * parked event ahead of the marker, so a key's parked events reach the dispatcher before its newer
 * ones. The parked queue is deleted only when the marker was reached and every parked event handed
 * over is acked; until then a crash returns them to the parked queue, which the group's next consumer
 * reads first again. The deletion cancels the standby readers of the parked queue, which then go on
 * to the group's queue.
 *
 * <p>After a dropped connection the client recovers the channel but no consumer (see
 * {@link ChannelsOnlyRecovery}): unacked events went back to their queues, so this consumer starts
 * over from the parked queue if it still exists, keeping the same order.
 */
final class PartitionConsumer {
    private static final Logger log = LoggerFactory.getLogger(PartitionConsumer.class);

    private final Connection connection;
    private final String group;
    private final String queue;
    private final String parkedQueue;
    private final DeliveryHandler handler;
    private final TransportMetrics.Received received;
    private final Channel channel;
    /** Backlog deliveries handed over and not yet acked, in this channel incarnation. */
    private final AtomicInteger parkedUnacked = new AtomicInteger();
    /** Deliveries handed to the handler and not yet acknowledged (for the lag). */
    private final java.util.concurrent.atomic.AtomicLong handedUnacked = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean closed;
    /** Guarded by {@code this}: the consumption state of the current channel incarnation. */
    private boolean live;
    private long markerTag = -1;
    private int incarnation;

    PartitionConsumer(Connection connection, String group, String queue, String parkedQueue, DeliveryHandler handler,
                      int prefetch, TransportMetrics.Received received) throws IOException {
        this.connection = connection;
        this.group = group;
        this.queue = queue;
        this.parkedQueue = parkedQueue;
        this.handler = handler;
        this.received = received;
        this.channel = connection.createChannel();
        channel.basicQos(prefetch);
    }

    /** Starts consuming: the parked queue first when it exists, else the group's queue. */
    synchronized void start() throws IOException {
        incarnation++;
        handedUnacked.set(0); // a new channel: whatever was unacked went back to the queue, ready again
        live = false;
        markerTag = -1;
        parkedUnacked.set(0);
        if (RabbitTopology.exists(connection, parkedQueue)) {
            channel.basicConsume(parkedQueue, false, "eventsync-" + group + "-parked", new ParkedReader(incarnation));
        } else {
            startLive();
        }
    }

    /** Called once the connection is recovered (channels first, then this): consumes again, as {@link #start}. */
    void restartAfterRecovery() {
        if (closed) {
            return;
        }
        try {
            start();
        } catch (IOException | RuntimeException e) {
            log.error("Cannot resume consuming queue {} after a reconnect; its events stay queued until the"
                    + " subscription is opened again", queue, e);
        }
    }

    private synchronized void startLive() throws IOException {
        if (live || closed) {
            return;
        }
        live = true;
        channel.basicConsume(queue, false, "eventsync-" + group, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                hand(envelope, properties, body, null);
            }

            @Override
            public void handleCancel(String tag) {
                log.warn("Broker cancelled the consumer of queue {} (queue deleted?)", queue);
            }
        });
    }

    /** Reads the parked queue of one channel incarnation up to its end marker. */
    private final class ParkedReader extends DefaultConsumer {
        private final int of;

        ParkedReader(int incarnation) {
            super(channel);
            this.of = incarnation;
        }

        @Override
        public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
            if (RabbitTopology.isEndMarker(properties)) {
                reachedMarker(of, envelope.getDeliveryTag());
                return;
            }
            parkedUnacked.incrementAndGet();
            hand(envelope, properties, body, () -> parkedAcked(of));
        }

        /** The parked queue was deleted (read to its end by this group's active reader): go on to the queue. */
        @Override
        public void handleCancel(String tag) {
            if (channel instanceof AutorecoveringChannel recovering) {
                recovering.deleteRecordedConsumer(tag);
            }
            try {
                startLive();
            } catch (IOException | RuntimeException e) {
                log.error("Cannot consume queue {} after its parked events were read", queue, e);
            }
        }
    }

    private synchronized void reachedMarker(int of, long tag) {
        if (of != incarnation) {
            return;
        }
        markerTag = tag;
        try {
            startLive(); // deliveries of the queue come after the parked ones on this channel
        } catch (IOException | RuntimeException e) {
            log.error("Cannot consume queue {} after its parked events were read", queue, e);
        }
        finishParked();
    }

    private void parkedAcked(int of) {
        synchronized (this) {
            if (of != incarnation) {
                return;
            }
        }
        if (parkedUnacked.decrementAndGet() == 0) {
            synchronized (this) {
                if (of == incarnation) {
                    finishParked();
                }
            }
        }
    }

    /** Once the marker is reached and everything before it acked: ack the marker, delete the parked queue. */
    private void finishParked() {
        if (markerTag < 0 || parkedUnacked.get() > 0) {
            return;
        }
        long tag = markerTag;
        markerTag = -1;
        try {
            channel.basicAck(tag, false);
        } catch (IOException | RuntimeException e) {
            log.debug("Ack of the end marker of {} not sent: {}", parkedQueue, e.getMessage());
            return; // the channel is gone: the marker comes again
        }
        if (RabbitTopology.deleteIfEmpty(connection, parkedQueue)) {
            log.info("Group {} read the events parked before it existed; parked queue {} deleted", group, parkedQueue);
        }
    }

    private void hand(Envelope envelope, AMQP.BasicProperties properties, byte[] body, Runnable onAck) {
        if (closed) {
            return; // not acked: requeued when the channel closes
        }
        Map<String, Object> headers = properties == null ? null : properties.getHeaders();
        int deliveryCount = deliveryCount(envelope, headers);
        received.count(deliveryCount);
        RabbitRecord record = new RabbitRecord(queue, envelope, properties, body);
        handedUnacked.incrementAndGet();
        Runnable acked = () -> {
            handedUnacked.decrementAndGet();
            if (onAck != null) {
                onAck.run();
            }
        };
        try {
            handler.onDelivery(new RabbitDelivery(queue, channel, envelope.getDeliveryTag(), deliveryCount, body,
                    record, acked));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Not acked: redelivered when this channel closes or recovers. Nothing is lost.
            log.error("Delivery handler failed on queue {} offset {}; the event stays unacked",
                    queue, envelope.getDeliveryTag(), e);
        }
    }

    String queue() {
        return queue;
    }

    /** Deliveries handed to the handler and not yet acknowledged on this channel's current incarnation. */
    long handedUnacked() {
        return handedUnacked.get();
    }

    /** Quorum queues count earlier deliveries in x-delivery-count; classic queues only flag a redelivery. */
    private static int deliveryCount(Envelope envelope, Map<String, Object> headers) {
        Object count = headers == null ? null : headers.get("x-delivery-count");
        if (count instanceof Number n) {
            return n.intValue() + 1;
        }
        return envelope.isRedeliver() ? 2 : 1;
    }

    /** Closing the channel requeues whatever is unacked; the next consumer of each queue gets it first. */
    void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException | TimeoutException | RuntimeException e) {
            log.debug("Closing the consumer channel of queue {} failed", queue, e);
        }
    }

    private record RabbitDelivery(String partition, Channel channel, long offset, int deliveryCount, byte[] bytes,
                                  RabbitRecord record, Runnable onAck) implements Delivery {
        @Override
        public String origin() {
            return record.origin();
        }

        @Override
        public String transportKey() {
            return record.transportKey();
        }

        @Override
        public String defect() {
            return record.defect();
        }

        @Override
        public void ack() {
            try {
                channel.basicAck(offset, false);
            } catch (IOException | RuntimeException e) {
                // Channel gone: the broker requeued the event and delivers it again; the consumer dedups.
                log.debug("Ack of queue {} offset {} not sent: {}", partition, offset, e.getMessage());
                return;
            }
            if (onAck != null) {
                onAck.run();
            }
        }
    }
}
