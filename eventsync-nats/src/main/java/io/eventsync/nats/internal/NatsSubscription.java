package io.eventsync.nats.internal;

import io.eventsync.EventsyncException;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.nats.client.ConsumeOptions;
import io.nats.client.Connection;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulls one group's durable consumer on a named thread and hands each message to the handler in
 * delivery order. The handler may block; the pull then stops (the client keeps at most one batch
 * buffered). Acks go back only when the dispatcher calls {@link Delivery#ack()}.
 */
public final class NatsSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(NatsSubscription.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(10);

    /** Pull requests expire after this; a pull lost with a dropped connection is renewed within it. */
    private static final long PULL_EXPIRES_MILLIS = 5_000;

    private final SubscriptionSpec spec;
    private final Connection connection;
    private final String stream;
    private final String durable;
    private final String partition;
    private final int fetchBatch;
    private final DeliveryHandler handler;
    private final TransportMetrics.Received received;
    private final Thread thread;
    private volatile IterableConsumer consumer;
    private volatile boolean renew;
    private volatile boolean closed;

    private NatsSubscription(Connection connection, SubscriptionSpec spec, String stream, String durable,
                             DeliveryHandler handler, int fetchBatch, TransportMetrics.Received received) {
        this.spec = spec;
        this.received = received;
        this.connection = connection;
        this.stream = stream;
        this.durable = durable;
        this.partition = stream + "/" + durable;
        this.fetchBatch = fetchBatch;
        this.handler = handler;
        this.thread = new Thread(this::run, "eventsync-nats-" + stream + "-" + durable);
    }

    public static NatsSubscription start(Connection connection, SubscriptionSpec spec, String stream, String durable,
                                         DeliveryHandler handler, int fetchBatch,
                                         TransportMetrics.Received received) {
        NatsSubscription subscription = new NatsSubscription(connection, spec, stream, durable, handler, fetchBatch,
                received);
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

    /**
     * Called after the client reconnected: the pull requests of the old connection may be gone or still
     * count against the server's batch, so the loop replaces its consumer with fresh pulls. Messages
     * buffered by the old one and not yet handed over are not acked and come again after the ack wait.
     */
    public void connectionRecovered() {
        renew = true;
    }

    private void renewConsumer() {
        renew = false;
        IterableConsumer old = consumer;
        old.stop();
        try {
            old.close();
        } catch (Exception e) {
            log.debug("Closing the NATS consumer of {} before renewing it failed", partition, e);
        }
        try {
            consumer = open();
            log.debug("Renewed the pull of {} after a reconnect", partition);
        } catch (EventsyncException e) {
            renew = true; // try again on the next turn of the loop
            log.warn("Renewing the pull of {} failed; retrying: {}", partition, e.getMessage());
        }
    }

    private void run() {
        log.debug("Consuming {} for group {}", partition, spec.group());
        while (!closed) {
            if (renew) {
                renewConsumer();
                if (renew) {
                    try {
                        Thread.sleep(POLL.toMillis()); // back off while the server is not reachable yet
                    } catch (InterruptedException e) {
                        break;
                    }
                    continue;
                }
            }
            Message message;
            try {
                message = consumer.nextMessage(POLL);
            } catch (InterruptedException e) {
                break; // close() interrupts; the loop ends and the thread exits
            } catch (JetStreamStatusCheckedException e) {
                // A status such as a deleted consumer: nothing more will come; unacked events stay pending.
                log.warn("NATS consumer {} stopped: {}", partition, e.getMessage());
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    break;
                }
                log.warn("Pulling from NATS consumer {} failed; pulling again", partition, e);
                continue;
            }
            if (message == null || !message.isJetStream()) {
                continue;
            }
            NatsDelivery delivery = new NatsDelivery(partition, message);
            received.count(delivery.deliveryCount());
            try {
                handler.onDelivery(delivery);
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                // Not acked, so the server delivers it again after the ack wait: nothing is lost.
                log.error("Delivery handler failed on {} offset {}; the event will be redelivered",
                        partition, message.metaData().consumerSequence(), e);
            }
        }
        log.debug("Stopped consuming {}", partition);
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
        thread.interrupt();
        try {
            thread.join(STOP_DEADLINE.toMillis());
            if (thread.isAlive()) {
                log.warn("Consumer thread {} did not stop within {}", thread.getName(), STOP_DEADLINE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            consumer.close();
        } catch (Exception e) {
            log.debug("Closing NATS consumer {} failed", partition, e);
        }
    }

    @Override
    public String toString() {
        return "NatsSubscription[" + partition + "]";
    }

    /** One JetStream message; the offset is the consumer sequence, which grows with every delivery. */
    private static final class NatsDelivery implements Delivery {
        private final String partition;
        private final Message message;

        NatsDelivery(String partition, Message message) {
            this.partition = partition;
            this.message = message;
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
            return message.getData();
        }

        @Override
        public int deliveryCount() {
            return (int) Math.min(Integer.MAX_VALUE, message.metaData().deliveredCount());
        }

        @Override
        public void ack() {
            try {
                message.ack();
            } catch (IllegalStateException e) {
                // Connection closed: the event stays unacked and is delivered again; the consumer dedups.
                log.debug("Ack of {} offset {} not sent: {}", partition, offset(), e.getMessage());
            }
        }
    }
}
