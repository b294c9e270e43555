package io.eventsync.transport.direct;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A publisher with no transport behind it: each sent event goes straight to a {@link DeliveryHandler} in
 * this process (a {@code Dispatcher}), and its send completes only when the handler acknowledged it, that
 * is when the event and every earlier one were applied, skipped or dead-lettered (see {@link Delivery}).
 * A relay that confirms its source only past completed sends ({@code WalRelay}) then advances its slot only
 * past events whose copy transaction committed: WAL reader -> dispatcher -> copy commit -> slot, in one
 * process, with no broker or log table in between.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>Events reach the handler in send order, one at a time, from one thread of this publisher
 *       ({@code eventsync-direct-<topic>}), as one partition ({@code direct:<topic>}) whose offsets count
 *       the deliveries of this publisher from 0. {@link #send} never blocks: it queues the event (at most
 *       {@code capacity} wait; beyond that a send fails at once, transiently) and the delivery thread is the
 *       one that waits when the handler pushes back.</li>
 *   <li>A send's future completes normally only when the handler acknowledged the event while this
 *       publisher was open. {@link #close()} fails the futures of every event queued or delivered and not
 *       acknowledged, so a relay never confirms them; it sends them again after a restart and the
 *       consumer's inbox drops what it had applied already.</li>
 *   <li>An event over {@code maxEventBytes} fails its send for good ({@link PermanentException}), as on
 *       every transport: the relay keeps it as a relay dead letter. Bytes that do not decode are delivered
 *       like any others; the dispatcher dead-letters them, parking the event's key.</li>
 * </ul>
 *
 * <p>Unlike a broker's publisher, {@link #close()} does not wait for the sends in flight: nothing is
 * durable here until the handler acknowledged it, so waiting is the relay's part ({@code WalRelay.close}
 * waits up to its send timeout). Close the relay first, then this publisher, then the dispatcher. The
 * handler's lag ({@link DeliveryHandler#onSubscribed}) is the events queued plus those delivered and not
 * acknowledged.
 */
public final class DirectPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(DirectPublisher.class);
    /** {@link Builder#capacity}'s default: as many as a WAL relay keeps in flight by default. */
    public static final int DEFAULT_CAPACITY = 10_000;
    /** How long {@link #close()} waits for the delivery thread to stop. */
    private static final long STOP_MILLIS = TimeUnit.SECONDS.toMillis(10);

    private final String topic;
    private final String partition;
    private final DeliveryHandler handler;
    private final int maxEventBytes;
    private final ArrayBlockingQueue<DirectDelivery> queue;
    /** Delivered and not yet acknowledged; what {@link #close()} fails. */
    private final Set<DirectDelivery> unacknowledged = ConcurrentHashMap.newKeySet();
    /**
     * Queued or delivered and not yet acknowledged, by event id: a relay that restarts its stream sends such
     * an event again, and the second send waits for the first delivery instead of being delivered again.
     */
    private final Map<String, DirectDelivery> pendingById = new ConcurrentHashMap<>();
    /** Set when the delivery thread died on an error: every send fails from then on. */
    private volatile Throwable died;
    private final Thread thread;
    private final Subscription subscription;
    private volatile boolean closed;
    /** The offset of the next delivery; delivery thread only. */
    private long nextOffset;

    private DirectPublisher(Builder b) {
        this.topic = b.topic;
        this.partition = "direct:" + b.topic;
        this.handler = b.handler;
        this.maxEventBytes = b.maxEventBytes;
        this.queue = new ArrayBlockingQueue<>(b.capacity);
        this.subscription = new DirectSubscription(SubscriptionSpec.fanout(b.topic, "direct"));
        this.thread = new Thread(this::run, "eventsync-direct-" + b.topic);
        this.thread.setDaemon(true);
    }

    /** A publisher of {@code topic} delivering to {@code handler}, with the default settings; started. */
    public static DirectPublisher to(String topic, DeliveryHandler handler) {
        return builder(topic, handler).build();
    }

    public static Builder builder(String topic, DeliveryHandler handler) {
        return new Builder(topic, handler);
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        if (closed) {
            return CompletableFuture.failedFuture(closedFailure(event));
        }
        int size = event.bytes().length;
        if (size > maxEventBytes) {
            return CompletableFuture.failedFuture(new PermanentException("event " + event.envelope().getId()
                    + " is " + size + " bytes, over the direct publisher's limit of " + maxEventBytes
                    + " bytes (maxEventBytes); make the payload smaller or raise the limit"));
        }
        if (died != null) {
            return CompletableFuture.failedFuture(new EventsyncException("direct publisher " + topic + " stopped: its"
                    + " delivery thread died on " + died + "; event " + event.envelope().getId() + " was not sent", died));
        }
        DirectDelivery pending = pendingById.get(event.envelope().getId());
        if (pending != null && !pending.acknowledged.isDone()) {
            // Sent again (a relay restarted its stream) while the first delivery is still on its way: its ack
            // says the event committed, so this send completes with it (and fails with it).
            return pending.acknowledged.thenApply(v -> v);
        }
        DirectDelivery delivery = new DirectDelivery(event);
        pendingById.put(event.envelope().getId(), delivery);
        if (!queue.offer(delivery)) {
            pendingById.remove(event.envelope().getId(), delivery);
            return CompletableFuture.failedFuture(new EventsyncException("direct publisher " + topic + " has "
                    + queue.size() + " events waiting for the handler, its capacity; event " + event.envelope().getId()
                    + " was not sent. Keep the relay's maxInFlight at or below the publisher's capacity"));
        }
        if (closed) {
            failQueued(); // close() may have emptied the queue before this event was in it
        }
        return delivery.acknowledged;
    }

    private void run() {
        try {
            while (!closed) {
                DirectDelivery delivery = queue.take();
                if (closed) {
                    delivery.fail(closedFailure(delivery.event));
                    return;
                }
                delivery.offset = nextOffset++;
                // Registered before the handler sees it: a heartbeat is acknowledged inside onDelivery.
                unacknowledged.add(delivery);
                deliver(delivery);
            }
        } catch (InterruptedException e) {
            // close() interrupts a handler blocked on backpressure; close() fails what was not acknowledged
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            // An Error out of the handler: nothing would deliver any more, so every send fails from now on, loudly.
            died = t;
            log.error("the delivery thread of direct publisher {} died; its sends fail until it is closed and"
                    + " built again", topic, t);
            EventsyncException failure = new EventsyncException("direct publisher " + topic + " stopped: its delivery"
                    + " thread died on " + t, t);
            List<DirectDelivery> queued = new ArrayList<>();
            queue.drainTo(queued);
            queued.forEach(d -> d.fail(failure));
            unacknowledged.forEach(d -> d.fail(failure));
            if (t instanceof Error error) {
                throw error;
            }
        }
    }

    private void deliver(DirectDelivery delivery) throws InterruptedException {
        try {
            handler.onDelivery(delivery);
        } catch (RuntimeException e) {
            // The handler never took it, so no acknowledgement will come: the sender learns at once and sends
            // it again. Later events go on; their acknowledgements do not cover this one (each send has its own).
            unacknowledged.remove(delivery);
            pendingById.remove(delivery.event.envelope().getId(), delivery);
            delivery.acknowledged.completeExceptionally(new EventsyncException("the handler of direct publisher "
                    + topic + " failed on event " + delivery.event.envelope().getId() + " (offset " + delivery.offset
                    + "): " + e, e));
            log.error("handler of direct publisher {} failed on event {} (subject {}, offset {}); its send fails",
                    topic, delivery.event.envelope().getId(), delivery.event.envelope().getSubject(), delivery.offset, e);
        }
    }

    private void failQueued() {
        List<DirectDelivery> queued = new ArrayList<>();
        queue.drainTo(queued);
        for (DirectDelivery delivery : queued) {
            delivery.fail(closedFailure(delivery.event));
        }
    }

    private EventsyncException closedFailure(OutboundEvent event) {
        return new EventsyncException("direct publisher " + topic + " was closed before its handler acknowledged"
                + " event " + event.envelope().getId() + "; the relay sends it again when it runs next");
    }

    /** The subscription the handler was given: for its lag, and to close this publisher. */
    public Subscription subscription() {
        return subscription;
    }

    /** Events queued plus those delivered and not yet acknowledged. */
    public long lag() {
        return (long) queue.size() + unacknowledged.size();
    }

    @Override
    public String transport() {
        return "direct";
    }

    @Override
    public String destination() {
        return topic;
    }

    @Override
    public int maxEventBytes() {
        return maxEventBytes;
    }

    /**
     * Stops delivering and fails the send of every event not acknowledged by now (queued, or delivered and
     * still unfinished); does not wait for them (see the class comment). Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The flag is set first: an acknowledgement from now on completes nothing normally (see DirectDelivery.ack).
        failQueued();
        failUnacknowledged();
        if (Thread.currentThread() != thread && thread.isAlive()) {
            thread.interrupt();
            try {
                thread.join(STOP_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                log.warn("delivery thread {} did not stop within {} ms (its handler ignores interruption)",
                        thread.getName(), STOP_MILLIS);
            }
        }
        // Again, once the thread stopped: it may have taken one more delivery while the first pass ran.
        failQueued();
        failUnacknowledged();
    }

    private void failUnacknowledged() {
        for (DirectDelivery delivery : List.copyOf(unacknowledged)) {
            delivery.fail(closedFailure(delivery.event));
        }
    }

    @Override
    public String toString() {
        return "DirectPublisher{" + topic + "}";
    }

    private final class DirectDelivery implements Delivery {
        final OutboundEvent event;
        final CompletableFuture<Void> acknowledged = new CompletableFuture<>();
        private final AtomicBoolean acked = new AtomicBoolean();
        /** Set by the delivery thread before the handler sees it. */
        long offset = -1;

        DirectDelivery(OutboundEvent event) {
            this.event = event;
        }

        void fail(EventsyncException failure) {
            // Out of the lag and the pending ids first, so whoever sees the failed send sees them gone too.
            unacknowledged.remove(this);
            pendingById.remove(event.envelope().getId(), this);
            acknowledged.completeExceptionally(failure);
        }

        @Override
        public String partition() {
            return partition;
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public byte[] bytes() {
            return event.bytes();
        }

        @Override
        public int deliveryCount() {
            return 1; // a relay's repeat after a restart is a new send; only the consumer's inbox knows
        }

        @Override
        public String origin() {
            return "direct topic " + topic + " offset " + offset + " event " + event.envelope().getId();
        }

        @Override
        public String transportKey() {
            return event.key();
        }

        @Override
        public void ack() {
            if (!acked.compareAndSet(false, true)) {
                throw new IllegalStateException("partition " + partition + " offset " + offset
                        + " was already acknowledged; ack() is called once per delivery");
            }
            if (closed) {
                fail(closedFailure(event));
            } else {
                // Completes on the acknowledging thread; a relay's continuation only queues and wakes (send never blocks).
                acknowledged.complete(null);
            }
            // Left only now: a close() racing with this ack still finds it and fails it, so once close() returned
            // no send of this publisher completes normally any more (a failed future stays failed).
            unacknowledged.remove(this);
            pendingById.remove(event.envelope().getId(), this);
        }
    }

    private final class DirectSubscription implements Subscription {
        private final SubscriptionSpec spec;

        DirectSubscription(SubscriptionSpec spec) {
            this.spec = spec;
        }

        @Override
        public SubscriptionSpec spec() {
            return spec;
        }

        @Override
        public Optional<Map<String, Long>> lag() {
            return Optional.of(Map.of(partition, DirectPublisher.this.lag()));
        }

        /** Closes the publisher: nothing delivers to the handler after it. */
        @Override
        public void close() {
            DirectPublisher.this.close();
        }

        @Override
        public String toString() {
            return "DirectSubscription{" + topic + "}";
        }
    }

    /** Direct publisher settings, validated in {@link #build()}. */
    public static final class Builder {
        private final String topic;
        private final DeliveryHandler handler;
        private int capacity = DEFAULT_CAPACITY;
        private int maxEventBytes = EnvelopeCodec.DEFAULT_MAX_BYTES;

        private Builder(String topic, DeliveryHandler handler) {
            this.topic = topic;
            this.handler = handler;
        }

        /**
         * Events that may wait for the delivery thread; a send beyond it fails at once (transiently).
         * Default {@value #DEFAULT_CAPACITY}, a WAL relay's default {@code maxInFlight}. A relay that restarts
         * its stream sends its unconfirmed events again; those still on their way wait for their first
         * delivery (no new entry), so within one stream a relay whose {@code maxInFlight} is not larger meets
         * the limit only with events the handler has not taken yet from before the restart.
         */
        public Builder capacity(int capacity) {
            this.capacity = capacity;
            return this;
        }

        /** The largest encoded event accepted; default {@link EnvelopeCodec#DEFAULT_MAX_BYTES}. */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        /**
         * Validates, tells the handler its subscription ({@link DeliveryHandler#onSubscribed}) and starts the
         * delivery thread.
         */
        public DirectPublisher build() {
            SubscriptionSpec.fanout(topic, "direct"); // validates the topic, which names the thread and partition
            if (handler == null) {
                throw new ConfigException("handler is required (the Dispatcher to deliver to), but was null");
            }
            if (capacity < 1 || capacity > 10_000_000) {
                throw new ConfigException("capacity must be 1..10000000, but was: " + capacity);
            }
            if (maxEventBytes < 1) {
                throw new ConfigException("maxEventBytes must be positive, but was: " + maxEventBytes);
            }
            DirectPublisher publisher = new DirectPublisher(this);
            handler.onSubscribed(publisher.subscription);
            publisher.thread.start();
            return publisher;
        }
    }
}
