package io.eventsync.nats.internal;

import io.eventsync.EventsyncException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.internal.TransportMetrics;
import io.nats.client.ConsumeOptions;
import io.nats.client.Connection;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls one group's durable consumer on a named thread and hands each message to the handler in
 * delivery order. The handler may block; the pull then stops (the client keeps at most one batch
 * buffered). Acks go back only when the dispatcher calls {@link Delivery#ack()}.
 *
 * <h2>After a reconnect</h2>
 * Messages the server sent while the connection dropped are lost in transit but count as delivered:
 * the server redelivers them only after the ack wait. Pulling newer messages at once would hand a
 * key's later event to the dispatcher before its earlier one. So the loop first hands over what the
 * old pulls buffered, waits (up to the ack wait) until its own deliveries are acked, asks the server
 * how many deliveries of the durable are still unacked, and if any are (lost ones, or ones held by
 * other instances of the group) waits one ack wait so that they are redelivered, and served before
 * newer messages, when it pulls again. Consumption pauses after a reconnect; order and nothing lost
 * come first.
 */
public final class NatsSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(NatsSubscription.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration DRAIN_POLL = Duration.ofMillis(100);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(10);
    /** Pull requests expire after this; a pull lost with a dropped connection is renewed within it. */
    private static final long PULL_EXPIRES_MILLIS = 5_000;

    private final SubscriptionSpec spec;
    private final Connection connection;
    private final String stream;
    private final String durable;
    private final String partition;
    private final int fetchBatch;
    private final Duration ackWait;
    private final DeliveryHandler handler;
    private final TransportMetrics.Received received;
    private final Thread thread;
    /** Guards {@link #unacked}; also the monitor the loop waits on (close() and acks notify it). */
    private final Object monitor = new Object();
    private long unacked;
    private volatile IterableConsumer consumer;
    private volatile boolean renew;
    private volatile boolean closed;

    private NatsSubscription(Connection connection, SubscriptionSpec spec, String stream, String durable,
                             DeliveryHandler handler, int fetchBatch, Duration ackWait,
                             TransportMetrics.Received received) {
        this.spec = spec;
        this.connection = connection;
        this.stream = stream;
        this.durable = durable;
        this.partition = stream + "/" + durable;
        this.fetchBatch = fetchBatch;
        this.ackWait = ackWait;
        this.handler = handler;
        this.received = received;
        this.thread = new Thread(this::run, "eventsync-nats-" + stream + "-" + durable);
    }

    public static NatsSubscription start(Connection connection, SubscriptionSpec spec, String stream, String durable,
                                         DeliveryHandler handler, int fetchBatch, Duration ackWait,
                                         TransportMetrics.Received received) {
        NatsSubscription subscription = new NatsSubscription(connection, spec, stream, durable, handler, fetchBatch,
                ackWait, received);
        subscription.consumer = subscription.open();
        subscription.thread.start();
        return subscription;
    }

    private IterableConsumer open() {
        try {
            return connection.getConsumerContext(stream, durable).iterate(ConsumeOptions.builder()
                    .batchSize(fetchBatch).expiresIn(PULL_EXPIRES_MILLIS).build());
        } catch (IOException | JetStreamApiException e) {
            throw new EventsyncException("Cannot consume NATS stream " + stream + " as " + durable + ": "
                    + e.getMessage(), e);
        }
    }

    /** Called after the client reconnected; the loop resumes as the class comment says. */
    public void connectionRecovered() {
        renew = true;
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    private void run() {
        log.debug("Consuming {} for group {}", partition, spec.group());
        try {
            while (!closed) {
                if (renew) {
                    resumeAfterReconnect();
                    continue;
                }
                Message message = next(consumer, POLL);
                if (message != null) {
                    hand(message);
                }
            }
        } catch (InterruptedException e) {
            // close() interrupts; the thread ends
        } catch (JetStreamStatusCheckedException e) {
            // A status such as a deleted consumer: nothing more will come; unacked events stay pending.
            log.warn("NATS consumer {} stopped: {}", partition, e.getMessage());
        }
        log.debug("Stopped consuming {}", partition);
    }

    private Message next(IterableConsumer from, Duration wait)
            throws InterruptedException, JetStreamStatusCheckedException {
        try {
            Message message = from.nextMessage(wait);
            return message != null && message.isJetStream() ? message : null;
        } catch (RuntimeException e) {
            if (!closed) {
                log.warn("Pulling from NATS consumer {} failed; pulling again", partition, e);
            }
            return null;
        }
    }

    private void hand(Message message) throws InterruptedException {
        NatsDelivery delivery = new NatsDelivery(message);
        received.count(delivery.deliveryCount());
        synchronized (monitor) {
            unacked++;
        }
        try {
            handler.onDelivery(delivery);
        } catch (RuntimeException e) {
            // Not acked, so the server delivers it again after the ack wait: nothing is lost.
            log.error("Delivery handler failed on {} offset {}; the event will be redelivered",
                    partition, delivery.offset(), e);
        }
    }

    private void resumeAfterReconnect() throws InterruptedException, JetStreamStatusCheckedException {
        renew = false;
        IterableConsumer old = consumer;
        old.stop();
        Message buffered;
        while (!closed && (buffered = next(old, DRAIN_POLL)) != null) {
            hand(buffered); // received before the drop, in order
        }
        closeQuietly(old);
        long deadline = System.nanoTime() + ackWait.toNanos();
        synchronized (monitor) {
            while (unacked > 0 && !closed && System.nanoTime() < deadline) {
                monitor.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        }
        long pending = serverPending();
        if (pending > 0 && !closed) {
            log.warn("{} deliveries of {} are unacked at the server after a reconnect (lost in transit or held"
                    + " by other instances); waiting the ack wait ({}) so they come again before newer events",
                    pending, partition, ackWait);
            pause(ackWait);
        }
        try {
            consumer = open();
            log.debug("Resumed pulling {} after a reconnect", partition);
        } catch (EventsyncException e) {
            consumer = old; // stopped; the next turn tries again
            renew = true;
            log.warn("Resuming {} failed; retrying: {}", partition, e.getMessage());
            pause(POLL);
        }
    }

    /**
     * The durable consumer's messages not yet delivered ({@code num_pending}) plus those delivered and not
     * yet acknowledged ({@code num_ack_pending}), by one consumer-info request. The durable is the group's
     * one partition: in queue mode every instance of the group reports the same whole figure under the same
     * partition name (take the largest across instances, not the sum). Empty when the server cannot be asked.
     */
    @Override
    public java.util.Optional<java.util.Map<String, Long>> lag() {
        try {
            io.nats.client.api.ConsumerInfo info = connection.jetStreamManagement().getConsumerInfo(stream, durable);
            return java.util.Optional.of(java.util.Map.of(partition, info.getNumPending() + info.getNumAckPending()));
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            log.debug("Cannot read the lag of {}: {}", partition, e.getMessage());
            return java.util.Optional.empty();
        }
    }

    /** Deliveries of the durable not yet acked, per the server; unknown counts as some. */
    private long serverPending() {
        try {
            return connection.jetStreamManagement().getConsumerInfo(stream, durable).getNumAckPending();
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            log.debug("Cannot read the state of {}: {}", partition, e.getMessage());
            return 1;
        }
    }

    /** Waits for {@code duration}, or less when closed. */
    private void pause(Duration duration) throws InterruptedException {
        long deadline = System.nanoTime() + duration.toNanos();
        synchronized (monitor) {
            while (!closed && System.nanoTime() < deadline) {
                monitor.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        }
    }

    private void acked() {
        synchronized (monitor) {
            unacked--;
            if (unacked == 0) {
                monitor.notifyAll();
            }
        }
    }

    private void closeQuietly(IterableConsumer old) {
        try {
            old.close();
        } catch (Exception e) {
            log.debug("Closing a NATS consumer of {} failed", partition, e);
        }
    }

    /** True once {@link #close()} ran; the transport then forgets this resource. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        consumer.stop();
        synchronized (monitor) {
            monitor.notifyAll();
        }
        thread.interrupt();
        try {
            thread.join(STOP_DEADLINE.toMillis());
            if (thread.isAlive()) {
                log.warn("Consumer thread {} did not stop within {}", thread.getName(), STOP_DEADLINE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(consumer);
    }

    @Override
    public String toString() {
        return "NatsSubscription[" + partition + "]";
    }

    /** One JetStream message; the offset is the consumer sequence, which grows with every delivery. */
    private final class NatsDelivery implements Delivery {
        private final Message message;
        private final NatsRecord record;
        private final AtomicBoolean done = new AtomicBoolean();

        NatsDelivery(Message message) {
            this.message = message;
            this.record = new NatsRecord(stream, message);
        }

        @Override
        public String partition() {
            return partition;
        }

        @Override
        public long offset() {
            return message.metaData().consumerSequence();
        }

        @Override
        public byte[] bytes() {
            byte[] data = message.getData();
            return data == null ? new byte[0] : data;
        }

        @Override
        public int deliveryCount() {
            return (int) Math.min(Integer.MAX_VALUE, message.metaData().deliveredCount());
        }

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
            if (!done.compareAndSet(false, true)) {
                return;
            }
            try {
                message.ack();
            } catch (IllegalStateException e) {
                // Connection closed: the event stays unacked and is delivered again; the consumer dedups.
                log.debug("Ack of {} offset {} not sent: {}", partition, offset(), e.getMessage());
            } finally {
                acked();
            }
        }
    }
}
