package io.eventsync.rabbitmq.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
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
 * (fails). When the channel goes down, every unconfirmed send fails at once (the broker may or may
 * not have it; the relay resends and the consumer's inbox drops a duplicate); the client recovers the
 * channel, re-enables confirms, and numbering starts again at 1.
 */
public final class RabbitPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(RabbitPublisher.class);
    static final String KEY_HEADER = "eventsync-key";
    private static final String SEQ_HEADER = "eventsync-publish-seq";

    private final String exchange;
    private final RabbitTransport.Settings settings;
    private final Channel channel;
    /** Unconfirmed sends by publish sequence number; guarded by {@code this} for inserts. */
    private final NavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private final TransportMetrics.Sent sent;
    private volatile boolean closed;
    /**
     * False from a channel shutdown until the recovered channel is in confirm mode again. A publish in
     * between would go out unconfirmed (sequence 0) and its future would only time out.
     */
    private volatile boolean ready = true;

    private record Pending(String eventId, CompletableFuture<Void> future) {
    }

    public RabbitPublisher(Connection connection, String exchange, RabbitTransport.Settings settings,
                           TransportMetrics.Sent sent) {
        this.exchange = exchange;
        this.sent = sent;
        this.settings = settings;
        try {
            this.channel = connection.createChannel();
            channel.confirmSelect();
        } catch (IOException e) {
            throw new EventsyncException("Cannot open a confirm channel to exchange " + exchange + ": "
                    + e.getMessage(), e);
        }
        channel.addConfirmListener((tag, multiple) -> confirmed(tag, multiple, null),
                (tag, multiple) -> confirmed(tag, multiple, "the broker nacked it (internal error or queue limit)"));
        channel.addReturnListener(this::returned);
        channel.addShutdownListener(this::channelDown);
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

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
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
        String routingKey = RabbitTopology.routingKey(event.key(), settings.partitions());
        synchronized (this) { // a channel is not safe for concurrent publishes, and seq numbers must match
            long seq = channel.getNextPublishSeqNo();
            if (!ready || seq == 0) {
                future.completeExceptionally(new EventsyncException("Connection to RabbitMQ is recovering; event "
                        + id + " not sent to exchange " + exchange + ", send it again"));
                return future;
            }
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                    .deliveryMode(2)
                    .contentType("application/protobuf")
                    .messageId(id)
                    .type(event.envelope().getType())
                    .headers(Map.of(KEY_HEADER, event.key(), SEQ_HEADER, seq))
                    .build();
            pending.put(seq, new Pending(id, future));
            try {
                channel.basicPublish(exchange, routingKey, true, props, event.bytes());
            } catch (IOException | RuntimeException e) {
                pending.remove(seq);
                future.completeExceptionally(new EventsyncException("Publishing event " + id + " to exchange "
                        + exchange + " failed: " + e.getMessage(), e));
                return future;
            }
        }
        return future.orTimeout(settings.publishTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                        ? new EventsyncException("No publisher confirm for event " + id + " on exchange " + exchange
                        + " within " + settings.publishTimeout(), e) : e));
    }

    private void confirmed(long tag, boolean multiple, String nackReason) {
        Map<Long, Pending> done = multiple ? pending.headMap(tag, true) : single(tag);
        for (Map.Entry<Long, Pending> entry : done.entrySet()) {
            Pending p = entry.getValue();
            if (nackReason == null) {
                p.future().complete(null);
            } else {
                p.future().completeExceptionally(new EventsyncException("Publishing event " + p.eventId()
                        + " to exchange " + exchange + " failed: " + nackReason));
            }
        }
        done.clear();
    }

    private Map<Long, Pending> single(long tag) {
        NavigableMap<Long, Pending> one = pending.subMap(tag, true, tag, true);
        return one;
    }

    /** A mandatory message no queue took; its ack follows and finds the future already failed. */
    private void returned(Return ret) {
        Object seq = ret.getProperties().getHeaders() == null ? null : ret.getProperties().getHeaders().get(SEQ_HEADER);
        Pending p = seq instanceof Number n ? pending.get(n.longValue()) : null;
        if (p != null) {
            p.future().completeExceptionally(new EventsyncException("Event " + p.eventId() + " was returned by "
                    + exchange + ": " + ret.getReplyCode() + " " + ret.getReplyText() + " (no queue bound)"));
        }
    }

    private void channelDown(ShutdownSignalException cause) {
        if (!pending.isEmpty()) {
            log.warn("Channel to exchange {} went down with {} sends unconfirmed; they fail and will be resent: {}",
                    exchange, pending.size(), cause.getMessage());
        }
        synchronized (this) {
            ready = false;
            for (Pending p : pending.values()) {
                p.future().completeExceptionally(new EventsyncException("Connection to RabbitMQ lost before the "
                        + "confirm of event " + p.eventId() + " on exchange " + exchange + ": " + cause.getMessage(), cause));
            }
            pending.clear();
        }
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
        CompletableFuture<?>[] inFlight = pending.values().stream().map(Pending::future)
                .toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(inFlight).get(settings.publishTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("Publisher for exchange {} closed with failed sends", exchange, e);
        }
        try {
            channel.close();
        } catch (IOException | TimeoutException | RuntimeException e) {
            log.debug("Closing the channel of exchange {} failed", exchange, e);
        }
    }

    @Override
    public String toString() {
        return "RabbitPublisher[" + exchange + "]";
    }
}
