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

    private final SubscriptionSpec spec;
    private final String partition;
    private final IterableConsumer consumer;
    private final DeliveryHandler handler;
    private final Thread thread;
    private volatile boolean closed;

    private NatsSubscription(SubscriptionSpec spec, String stream, String durable, IterableConsumer consumer,
                             DeliveryHandler handler) {
        this.spec = spec;
        this.partition = stream + "/" + durable;
        this.consumer = consumer;
        this.handler = handler;
        this.thread = new Thread(this::run, "eventsync-nats-" + stream + "-" + durable);
    }

    public static NatsSubscription start(Connection connection, SubscriptionSpec spec, String stream, String durable,
                                         DeliveryHandler handler, int fetchBatch) {
        IterableConsumer consumer;
        try {
            consumer = connection.getConsumerContext(stream, durable)
                    .iterate(ConsumeOptions.builder().batchSize(fetchBatch).build());
        } catch (IOException | JetStreamApiException e) {
            throw new EventsyncException("Cannot consume NATS stream " + stream + " as " + durable + ": "
                    + e.getMessage(), e);
        }
        NatsSubscription subscription = new NatsSubscription(spec, stream, durable, consumer, handler);
        subscription.thread.start();
        return subscription;
    }

    private void run() {
        log.debug("Consuming {} for group {}", partition, spec.group());
        while (!closed) {
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
            try {
                handler.onDelivery(new NatsDelivery(partition, message));
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
