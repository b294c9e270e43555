package io.eventsync.transport.inprocess;

import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of a group: a named thread that hands the events of its assigned partitions to the
 * handler, one at a time, in offset order per partition. The handler may block (backpressure).
 */
final class InProcessSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(InProcessSubscription.class);
    private static final int BATCH = 64;

    private final InProcessTopic topic;
    private final SubscriptionSpec spec;
    private final DeliveryHandler handler;
    private final InProcessTopic.Group group;
    private final Thread thread;
    // Guarded by topic.lock:
    private boolean[] assigned = new boolean[0];
    private long[] fetch = new long[0];
    private int cursor;
    private volatile boolean closed;

    InProcessSubscription(InProcessTopic topic, SubscriptionSpec spec, DeliveryHandler handler,
                          InProcessTopic.Group group, int memberNumber) {
        this.topic = topic;
        this.spec = spec;
        this.handler = handler;
        this.group = group;
        this.thread = new Thread(this::run,
                "eventsync-inprocess-" + spec.topic() + "-" + spec.group() + "-" + memberNumber);
        this.thread.setDaemon(true);
    }

    InProcessTopic.Group group() {
        return group;
    }

    void start() {
        thread.start();
    }

    /** Called under the topic lock by a rebalance. */
    void assign(boolean[] next, long[] committed) {
        long[] nextFetch = new long[next.length];
        for (int p = 0; p < next.length; p++) {
            boolean kept = p < assigned.length && assigned[p];
            nextFetch[p] = next[p] && kept ? fetch[p] : committed[p];
        }
        assigned = next;
        fetch = nextFetch;
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    private void run() {
        try {
            while (!closed) {
                int partition;
                long first;
                byte[][] batch;
                int[] counts;
                topic.lock.lock();
                try {
                    while (!closed && (partition = nextAvailable()) < 0) {
                        topic.changed.await();
                    }
                    if (closed) {
                        return;
                    }
                    partition = nextAvailable();
                    first = fetch[partition];
                    int n = (int) Math.min(BATCH, topic.size(partition) - first);
                    batch = new byte[n][];
                    counts = new int[n];
                    for (int i = 0; i < n; i++) {
                        long offset = first + i;
                        batch[i] = topic.read(partition, offset);
                        counts[i] = offset < group.delivered[partition] ? 2 : 1;
                    }
                    fetch[partition] = first + n;
                    group.delivered[partition] = Math.max(group.delivered[partition], first + n);
                } finally {
                    topic.lock.unlock();
                }
                for (int i = 0; i < batch.length && !closed; i++) {
                    deliver(new InProcessDelivery(partition, first + i, batch[i], counts[i]));
                }
            }
        } catch (InterruptedException e) {
            // close() interrupts a handler blocked on backpressure; unacknowledged events go to the next consumer
            Thread.currentThread().interrupt();
        }
    }

    private void deliver(InProcessDelivery delivery) throws InterruptedException {
        try {
            handler.onDelivery(delivery);
        } catch (RuntimeException e) {
            // Treated as a consumer crash: delivering later events would let their acks cover this
            // one (acks are cumulative per partition) and lose it. Leaving the group hands the
            // partitions, from the acknowledged position, to the group's other or next consumer.
            log.error("handler of in-process topic {} group {} failed on partition {} offset {}; "
                    + "this consumer leaves the group and the event will be delivered again",
                    spec.topic(), spec.group(), delivery.partition(), delivery.offset(), e);
            close();
        }
    }

    /** Round robin over assigned partitions that have events past the fetch position. Under the lock. */
    private int nextAvailable() {
        int n = assigned.length;
        for (int i = 0; i < n; i++) {
            int p = (cursor + i) % n;
            if (assigned[p] && fetch[p] < topic.size(p)) {
                cursor = p + 1;
                return p;
            }
        }
        return -1;
    }

    private void acknowledge(int partition, long offset) {
        topic.lock.lock();
        try {
            // Acks arrive in offset order per partition; a late ack of a consumer that lost the
            // partition still only moves the position forward over events that were handled.
            if (offset + 1 > group.committed[partition]) {
                group.committed[partition] = offset + 1;
            }
        } finally {
            topic.lock.unlock();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        topic.leave(this);
        if (Thread.currentThread() != thread) {
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (thread.isAlive()) {
                log.warn("delivery thread {} did not stop within 10 s (its handler ignores interruption)",
                        thread.getName());
            }
        }
    }

    @Override
    public String toString() {
        return "InProcessSubscription{" + spec + "}";
    }

    private final class InProcessDelivery implements Delivery {
        private final int partition;
        private final long offset;
        private final byte[] bytes;
        private final int deliveryCount;
        private final AtomicBoolean acked = new AtomicBoolean();

        InProcessDelivery(int partition, long offset, byte[] bytes, int deliveryCount) {
            this.partition = partition;
            this.offset = offset;
            this.bytes = bytes;
            this.deliveryCount = deliveryCount;
        }

        @Override
        public String partition() {
            return spec.topic() + "-" + partition;
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }

        @Override
        public int deliveryCount() {
            return deliveryCount;
        }

        @Override
        public void ack() {
            if (!acked.compareAndSet(false, true)) {
                throw new IllegalStateException("partition " + partition() + " offset " + offset
                        + " was already acknowledged; ack() is called once per delivery");
            }
            acknowledge(partition, offset);
        }
    }
}
