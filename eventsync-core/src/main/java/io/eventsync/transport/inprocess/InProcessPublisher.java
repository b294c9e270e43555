package io.eventsync.transport.inprocess;

import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import java.util.concurrent.CompletableFuture;

/** Appends to an in-memory topic; a send is durable (as durable as memory) when it returns. */
final class InProcessPublisher implements Publisher {
    private final InProcessTopic topic;
    private final int maxEventBytes;
    private volatile boolean closed;

    InProcessPublisher(InProcessTopic topic, int maxEventBytes) {
        this.topic = topic;
        this.maxEventBytes = maxEventBytes;
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        CompletableFuture<Void> refused = refusal(event);
        if (refused != null) {
            return refused;
        }
        topic.append(event.key(), event.bytes());
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
        CompletableFuture<Void> refused = refusal(event);
        if (refused != null) {
            return refused;
        }
        topic.appendToAll(event.bytes());
        return CompletableFuture.completedFuture(null);
    }

    /** A failed future when the event cannot be sent, else null. */
    private CompletableFuture<Void> refusal(OutboundEvent event) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException(
                    "publisher for in-process topic " + topic.name() + " is closed"));
        }
        int size = event.bytes().length;
        if (size > maxEventBytes) {
            return CompletableFuture.failedFuture(new PermanentException("event " + event.envelope().getId()
                    + " is " + size + " bytes, over the in-process transport's limit of " + maxEventBytes
                    + " bytes (maxEventBytes); make the payload smaller or raise the limit"));
        }
        return null;
    }

    @Override
    public String transport() {
        return "inprocess";
    }

    @Override
    public String destination() {
        return topic.name();
    }

    @Override
    public int maxEventBytes() {
        return maxEventBytes;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "InProcessPublisher{" + topic.name() + "}";
    }
}
