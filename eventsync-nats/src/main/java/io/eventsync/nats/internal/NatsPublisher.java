package io.eventsync.nats.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.internal.TransportMetrics;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to one topic's stream. Sends are pipelined ({@code publishAsync}); each future completes
 * when the stream has stored the event (or had already stored it: a duplicate id inside the
 * duplicate window is acknowledged without storing it again).
 */
public final class NatsPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(NatsPublisher.class);
    public static final String KEY_HEADER = "Eventsync-Key";

    private final JetStream jetStream;
    private final String stream;
    private final String subject;
    private final int maxEventBytes;
    private final Duration publishTimeout;
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
    private final TransportMetrics.Sent sent;
    private volatile boolean closed;

    public NatsPublisher(Connection connection, String stream, String subject, int maxEventBytes,
                         Duration publishTimeout, TransportMetrics.Sent sent) {
        this.sent = sent;
        try {
            this.jetStream = connection.jetStream();
        } catch (IOException e) {
            throw new EventsyncException("JetStream is not available on the NATS server: " + e.getMessage(), e);
        }
        this.stream = stream;
        this.subject = subject;
        this.maxEventBytes = maxEventBytes;
        this.publishTimeout = publishTimeout;
    }

    @Override
    public String transport() {
        return "nats";
    }

    /** The subject it publishes to (the stream's subject for the topic). */
    @Override
    public String destination() {
        return subject;
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        String id = event.envelope().getId();
        if (closed) {
            return CompletableFuture.failedFuture(new EventsyncException(
                    "Publisher for NATS stream " + stream + " is closed; event " + id + " not sent"));
        }
        if (event.bytes().length > maxEventBytes) {
            sent.failed().increment();
            return CompletableFuture.failedFuture(new PermanentException("Event " + id + " (subject "
                    + event.envelope().getSubject() + ") is " + event.bytes().length
                    + " bytes, over the NATS transport limit of " + maxEventBytes
                    + " bytes (maxEventBytes); shrink the payload or raise the server's max_payload"));
        }
        Headers headers = new Headers().put(KEY_HEADER, event.key());
        PublishOptions.Builder options = PublishOptions.builder().expectedStream(stream);
        if (!id.isEmpty()) {
            options.messageId(id); // Nats-Msg-Id: server-side dedup inside the duplicate window
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        pending.add(result);
        result.whenComplete((ok, error) -> pending.remove(result));
        try {
            jetStream.publishAsync(subject, headers, event.bytes(), options.build())
                    .orTimeout(publishTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenComplete((ack, error) -> complete(result, id, ack, error));
        } catch (RuntimeException e) {
            complete(result, id, null, e);
        }
        return result;
    }

    private void complete(CompletableFuture<Void> result, String id, PublishAck ack, Throwable error) {
        if (error == null) {
            if (ack.isDuplicate()) {
                sent.duplicate().increment();
                log.debug("Event {} already stored in NATS stream {}; duplicate dropped by the server", id, stream);
            } else {
                sent.ok().increment();
            }
            result.complete(null);
            return;
        }
        sent.failed().increment();
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String why = cause instanceof TimeoutException ? "no ack within " + publishTimeout : String.valueOf(cause.getMessage());
        result.completeExceptionally(new EventsyncException(
                "Publishing event " + id + " to NATS stream " + stream + " failed: " + why, cause));
    }

    /** True once {@link #close()} ran; the transport then forgets this resource. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public int maxEventBytes() {
        return maxEventBytes;
    }

    @Override
    public void close() {
        closed = true;
        CompletableFuture<?>[] inFlight = pending.toArray(CompletableFuture[]::new);
        try {
            // Every future times out after publishTimeout, so this wait is bounded.
            CompletableFuture.allOf(inFlight).get(publishTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.debug("Publisher for NATS stream {} closed with failed sends", stream, e);
        }
    }

    @Override
    public String toString() {
        return "NatsPublisher[" + stream + "]";
    }
}
