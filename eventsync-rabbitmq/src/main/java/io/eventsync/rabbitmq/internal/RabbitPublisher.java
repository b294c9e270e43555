package io.eventsync.rabbitmq.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.internal.TransportMetrics;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.Return;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to one topic's exchange on a channel of its own in confirm mode. Sends are pipelined:
 * each is tracked by its publish sequence number until the broker's ack (completes), nack or return
 * (fails).
 *
 * <p>Two ways to lose the channel. A dropped connection: every unconfirmed send fails at once (the
 * broker may or may not have it; the relay resends and the consumer's inbox drops a duplicate), the
 * client recovers the channel and re-enables confirms, and sends fail fast until it has. A channel
 * error (the exchange was deleted, a message over the broker's max_message_size): the client does not
 * recover that, so the next send opens a new channel after re-declaring the exchange.
 */
public final class RabbitPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(RabbitPublisher.class);
    static final String KEY_HEADER = "eventsync-key";
    private static final String SEQ_HEADER = "eventsync-publish-seq";

    private final Connection connection;
    private final String exchange;
    private final Runnable declareExchange;
    private final RabbitTransport.Settings settings;
    private final TransportMetrics.Sent sent;
    /** The channel sends go to; replaced after a channel error. Guarded by {@code this}. */
    private ConfirmChannel current;
    private volatile boolean closed;

    private record Pending(String eventId, CompletableFuture<Void> future) {
    }

    public RabbitPublisher(Connection connection, String exchange, Runnable declareExchange,
                           RabbitTransport.Settings settings, TransportMetrics.Sent sent) {
        this.connection = connection;
        this.exchange = exchange;
        this.declareExchange = declareExchange;
        this.settings = settings;
        this.sent = sent;
        this.current = new ConfirmChannel();
    }

    @Override
    public String transport() {
        return "rabbitmq";
    }

    @Override
    public String destination() {
        return exchange;
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        return send(event, RabbitTopology.routingKey(event.key(), settings.partitions()));
    }

    /** One copy per partition queue, routed by each partition's own routing key (a heartbeat). */
    @Override
    public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
        CompletableFuture<?>[] sent = new CompletableFuture<?>[settings.partitions()];
        for (int n = 0; n < sent.length; n++) {
            sent[n] = send(event, Integer.toString(n));
        }
        return CompletableFuture.allOf(sent);
    }

    private CompletableFuture<Void> send(OutboundEvent event, String routingKey) {
        String id = event.envelope().getId();
        if (closed) {
            return CompletableFuture.failedFuture(new EventsyncException(
                    "Publisher for exchange " + exchange + " is closed; event " + id + " not sent"));
        }
        int size = event.bytes().length;
        if (size > settings.maxEventBytes()) {
            sent.failed().increment();
            return CompletableFuture.failedFuture(new PermanentException("Event " + id + " (subject "
                    + event.envelope().getSubject() + ") is " + size + " bytes, over the RabbitMQ transport limit of "
                    + settings.maxEventBytes() + " bytes (maxEventBytes); shrink the payload, or raise maxEventBytes"
                    + " and the broker's max_message_size together"));
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        future.whenComplete((ok, error) -> (error == null ? sent.ok() : sent.failed()).increment());
        synchronized (this) { // a channel is not safe for concurrent publishes, and seq numbers must match
            try {
                ConfirmChannel target = usableChannel();
                target.publish(id, routingKey, event.bytes(), event.envelope().getType(), event.key(), future);
            } catch (IOException | RuntimeException e) {
                future.completeExceptionally(e instanceof EventsyncException ? e : new EventsyncException(
                        "Publishing event " + id + " to exchange " + exchange + " failed: " + e.getMessage(), e));
                return future;
            }
        }
        return future.orTimeout(settings.publishTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                        ? new EventsyncException("No publisher confirm for event " + id + " on exchange " + exchange
                        + " within " + settings.publishTimeout(), e) : e));
    }

    /** The current channel, or a new one when a channel error closed it while the connection is up. */
    private ConfirmChannel usableChannel() {
        if (!current.channel.isOpen() && connection.isOpen()) {
            log.info("Reopening the publisher channel of exchange {} after a channel error", exchange);
            declareExchange.run();
            current = new ConfirmChannel();
        }
        if (!current.ready) {
            throw new EventsyncException("Connection to RabbitMQ is recovering; nothing sent to exchange "
                    + exchange + ", send again");
        }
        return current;
    }

    /** True once {@link #close()} ran; the transport then forgets this resource. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public int maxEventBytes() {
        return settings.maxEventBytes();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        ConfirmChannel last;
        synchronized (this) {
            last = current;
        }
        CompletableFuture<?>[] inFlight = last.pending.values().stream().map(Pending::future)
                .toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(inFlight).get(settings.publishTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("Publisher for exchange {} closed with failed sends", exchange, e);
        }
        try {
            last.channel.close();
        } catch (IOException | TimeoutException | RuntimeException e) {
            log.debug("Closing the channel of exchange {} failed", exchange, e);
        }
    }

    @Override
    public String toString() {
        return "RabbitPublisher[" + exchange + "]";
    }

    /** One channel in confirm mode with the sends it has not confirmed yet; its listeners see only its own. */
    /** How long a heartbeat may wait in a queue (per-message TTL, AMQP {@code expiration}). */
    public static final String HEARTBEAT_TTL_MILLIS = Long.toString(java.time.Duration.ofMinutes(10).toMillis());

    private final class ConfirmChannel {
        private final Channel channel;
        private final NavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
        /**
         * False from a shutdown until the recovered channel is in confirm mode again: a publish in between
         * would go out unconfirmed (sequence 0) and its future would only time out.
         */
        private volatile boolean ready = true;

        ConfirmChannel() {
            try {
                channel = connection.createChannel();
                channel.confirmSelect();
            } catch (IOException | RuntimeException e) {
                throw new EventsyncException("Cannot open a confirm channel to exchange " + exchange + ": "
                        + e.getMessage(), e);
            }
            channel.addConfirmListener((tag, multiple) -> confirmed(tag, multiple, null),
                    (tag, multiple) -> confirmed(tag, multiple, "the broker nacked it (internal error or queue limit)"));
            channel.addReturnListener(this::returned);
            channel.addShutdownListener(this::down);
            if (channel instanceof Recoverable recoverable) {
                recoverable.addRecoveryListener(new RecoveryListener() {
                    @Override
                    public void handleRecovery(Recoverable r) {
                        ready = true; // called after the client re-enabled confirm mode on the new channel
                    }

                    @Override
                    public void handleRecoveryStarted(Recoverable r) {
                    }
                });
            }
        }

        void publish(String id, String routingKey, byte[] body, String type, String key,
                     CompletableFuture<Void> future) throws IOException {
            long seq = channel.getNextPublishSeqNo();
            if (seq == 0) {
                throw new EventsyncException("Channel to exchange " + exchange + " is not in confirm mode yet;"
                        + " event " + id + " not sent, send it again");
            }
            AMQP.BasicProperties.Builder builder = new AMQP.BasicProperties.Builder()
                    .deliveryMode(2)
                    .contentType("application/protobuf")
                    .messageId(id)
                    .type(type)
                    .headers(Map.of(KEY_HEADER, key, SEQ_HEADER, seq));
            if (Heartbeats.TYPE.equals(type)) {
                // A relay sends one a second, also into topics no group consumes yet (their unrouted queue):
                // an old heartbeat says nothing a newer one does not, so let the broker drop it.
                builder.expiration(HEARTBEAT_TTL_MILLIS);
            }
            AMQP.BasicProperties props = builder.build();
            pending.put(seq, new Pending(id, future));
            try {
                channel.basicPublish(exchange, routingKey, true, props, body);
            } catch (IOException | RuntimeException e) {
                pending.remove(seq);
                throw e;
            }
        }

        private void confirmed(long tag, boolean multiple, String nackReason) {
            Map<Long, Pending> done = multiple ? pending.headMap(tag, true) : pending.subMap(tag, true, tag, true);
            for (Pending p : done.values()) {
                if (nackReason == null) {
                    p.future().complete(null);
                } else {
                    p.future().completeExceptionally(new EventsyncException("Publishing event " + p.eventId()
                            + " to exchange " + exchange + " failed: " + nackReason));
                }
            }
            done.clear();
        }

        /** A mandatory message no queue took; its ack follows and finds the future already failed. */
        private void returned(Return ret) {
            Map<String, Object> headers = ret.getProperties().getHeaders();
            Object seq = headers == null ? null : headers.get(SEQ_HEADER);
            Pending p = seq instanceof Number n ? pending.get(n.longValue()) : null;
            if (p != null) {
                p.future().completeExceptionally(new EventsyncException("Event " + p.eventId() + " was returned by "
                        + exchange + ": " + ret.getReplyCode() + " " + ret.getReplyText() + " (no queue bound)"));
            }
        }

        private void down(ShutdownSignalException cause) {
            ready = false;
            if (!pending.isEmpty() && !closed) {
                log.warn("Channel to exchange {} went down with {} sends unconfirmed; they fail and will be resent: {}",
                        exchange, pending.size(), cause.getMessage());
            }
            for (Map.Entry<Long, Pending> e = pending.pollFirstEntry(); e != null; e = pending.pollFirstEntry()) {
                e.getValue().future().completeExceptionally(new EventsyncException("Channel to exchange " + exchange
                        + " went down before the confirm of event " + e.getValue().eventId() + ": "
                        + cause.getMessage(), cause));
            }
        }
    }
}
