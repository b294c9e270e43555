package io.eventsync.dispatch.internal;

import io.eventsync.transport.Delivery;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns "this delivery is done" (applied, skipped or dead-lettered, in any order across keys) into
 * transport acknowledgements that are in arrival order per partition: a delivery is acknowledged only
 * when it and every delivery of its partition that arrived before it are done. A crash can then cause a
 * redelivery, never a loss.
 *
 * <p>Acknowledgement runs under the partition's lock so that two threads finishing neighbouring
 * deliveries can never acknowledge them out of order.
 */
public final class AckTracker {
    private static final Logger log = LoggerFactory.getLogger(AckTracker.class);

    private final ConcurrentHashMap<String, PartitionTrack> partitions = new ConcurrentHashMap<>();
    private final Consumer<Delivery> onAck;

    /** @param onAck called after each acknowledgement (for metrics/tests); may be a no-op */
    public AckTracker(Consumer<Delivery> onAck) {
        this.onAck = onAck;
    }

    /** Registers a delivery in arrival order; must be called before the delivery can be done. */
    public Ticket register(Delivery delivery) {
        PartitionTrack track = partitions.computeIfAbsent(delivery.partition(), p -> new PartitionTrack());
        Ticket ticket = new Ticket(delivery, track);
        synchronized (track) {
            if (track.pending.isEmpty()) {
                track.progressNanos = System.nanoTime(); // a backlog starts: count its standstill from now
            }
            track.pending.addLast(ticket);
        }
        return ticket;
    }

    /**
     * Partitions with unacknowledged deliveries whose last acknowledgement (or, if none since they
     * became pending, whose first pending delivery) is older than {@code stalledNanos}: partition to
     * its pending count. A pipeline stuck behind one event shows here while freshness alone might not.
     */
    public Map<String, Integer> stalled(long stalledNanos) {
        long now = System.nanoTime();
        Map<String, Integer> stalled = new TreeMap<>();
        partitions.forEach((partition, track) -> {
            synchronized (track) {
                if (!track.pending.isEmpty() && now - track.progressNanos > stalledNanos) {
                    stalled.put(partition, track.pending.size());
                }
            }
        });
        return stalled;
    }

    /** Deliveries registered and not yet acknowledged, per partition that has any. */
    public Map<String, Integer> pendingByPartition() {
        Map<String, Integer> out = new TreeMap<>();
        partitions.forEach((partition, track) -> {
            synchronized (track) {
                if (!track.pending.isEmpty()) {
                    out.put(partition, track.pending.size());
                }
            }
        });
        return out;
    }

    /** Deliveries registered and not yet acknowledged, over all partitions. */
    public int pending() {
        int n = 0;
        for (PartitionTrack track : partitions.values()) {
            synchronized (track) {
                n += track.pending.size();
            }
        }
        return n;
    }

    /** One registered delivery. {@link #done()} is idempotent. */
    public final class Ticket {
        private final Delivery delivery;
        private final PartitionTrack track;
        private boolean done; // guarded by track
        private Runnable whenAcknowledged; // guarded by track

        private Ticket(Delivery delivery, PartitionTrack track) {
            this.delivery = delivery;
            this.track = track;
        }

        public Delivery delivery() {
            return delivery;
        }

        /**
         * Runs {@code action} once this delivery is acknowledged, that is once it and every earlier delivery
         * of its partition are done (under the partition's lock, so keep it short). Set it before
         * {@link #done()}; it runs even when the transport failed to record the acknowledgement.
         */
        public void whenAcknowledged(Runnable action) {
            synchronized (track) {
                whenAcknowledged = action;
            }
        }

        /**
         * Marks the delivery done and acknowledges every done delivery at the head of its partition.
         * Returns true the first time, false if it was already done.
         */
        public boolean done() {
            synchronized (track) {
                if (done) {
                    return false;
                }
                done = true;
                ArrayDeque<Ticket> pending = track.pending;
                while (!pending.isEmpty() && pending.peekFirst().done) {
                    Ticket head = pending.pollFirst();
                    acknowledge(head.delivery);
                    track.progressNanos = System.nanoTime();
                    if (head.whenAcknowledged != null) {
                        runQuietly(head.whenAcknowledged, head.delivery);
                    }
                }
                return true;
            }
        }
    }

    private void acknowledge(Delivery delivery) {
        try {
            delivery.ack();
            onAck.accept(delivery);
        } catch (RuntimeException e) {
            // The transport could not record it (closed, disconnected): the event will be delivered
            // again and deduplicated, so this is not a loss. Later acks of the partition still go out
            // in order; a transport treats them as covering this one.
            log.warn("acknowledging partition {} offset {} failed; it will be redelivered: {}",
                    delivery.partition(), delivery.offset(), e.toString());
        }
    }

    private static void runQuietly(Runnable action, Delivery delivery) {
        try {
            action.run();
        } catch (RuntimeException e) {
            // Only bookkeeping (a heartbeat's record) runs here: it must not stop later acknowledgements.
            log.warn("the action after acknowledging partition {} offset {} failed", delivery.partition(),
                    delivery.offset(), e);
        }
    }

    private static final class PartitionTrack {
        final ArrayDeque<Ticket> pending = new ArrayDeque<>();
        /** When the partition last acknowledged, or its backlog began (System.nanoTime). Guarded by this. */
        long progressNanos = System.nanoTime();
    }
}
