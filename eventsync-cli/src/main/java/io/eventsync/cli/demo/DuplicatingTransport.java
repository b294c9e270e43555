package io.eventsync.cli.demo;

import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps a transport so that some events are published twice, right after each other, as a relay does
 * when a send's acknowledgement is lost and it sends again. Consumers then receive the event twice and
 * the inbox must suppress the second one.
 */
final class DuplicatingTransport implements Transport {
    private final Transport delegate;
    private final double rate;
    final AtomicLong duplicated = new AtomicLong();

    DuplicatingTransport(Transport delegate, double rate) {
        this.delegate = delegate;
        this.rate = rate;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Publisher publisher(String topic) {
        Publisher publisher = delegate.publisher(topic);
        return new Publisher() {
            @Override
            public CompletableFuture<Void> send(OutboundEvent event) {
                CompletableFuture<Void> first = publisher.send(event);
                if (Faults.roll(event.envelope().getId(), "duplicate") >= rate) {
                    return first;
                }
                duplicated.incrementAndGet();
                CompletableFuture<Void> second = publisher.send(event);
                return CompletableFuture.allOf(first, second);
            }

            /** Heartbeats are not events: not duplicated, and they must still reach every partition. */
            @Override
            public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
                return publisher.sendToAllPartitions(event);
            }

            @Override
            public int maxEventBytes() {
                return publisher.maxEventBytes();
            }

            @Override
            public void close() {
                publisher.close();
            }
        };
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        return delegate.subscribe(spec, handler);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
