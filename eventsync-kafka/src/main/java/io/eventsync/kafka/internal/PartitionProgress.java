package io.eventsync.kafka.internal;

import org.apache.kafka.common.TopicPartition;

/**
 * What one consumer did with one assigned partition during one assignment: the last offset handed to
 * the delivery handler and the last offset acknowledged. A new object is made on every assignment, so
 * an acknowledgement that arrives after its partition was revoked lands on a retired object and is
 * ignored: it can never move the committed offset of a partition this consumer no longer owns.
 *
 * <p>Threads: the delivery thread hands out, any thread acknowledges (the dispatcher's lanes), the poll
 * thread reads both to commit and waits on this object during a revocation.
 */
final class PartitionProgress {
    final TopicPartition partition;
    final String name;

    /** Guarded by this: set when the revocation starts; nothing more is handed out after it. */
    private boolean closedForDelivery;
    /** Guarded by this: the highest offset handed to the handler, -1 before the first. */
    private long handed = -1;
    /** The highest offset acknowledged, -1 before the first. Acks come in offset order (Delivery contract). */
    private volatile long acked = -1;
    /** True once the poll thread no longer commits for this assignment; later acks are ignored. */
    private volatile boolean retired;
    /** Poll thread only: the offset last sent in a commit (next offset to read), -1 before the first. */
    long committed = -1;
    /** Poll thread only: the first offset fetched in this assignment, -1 before the first. */
    long firstFetched = -1;

    /**
     * The first offset not yet acknowledged: after the last ack, else the first fetched; -1 when neither
     * happened (the consumer's position then is that offset).
     */
    long firstUnacknowledged() {
        long a = acked;
        return a >= 0 ? a + 1 : firstFetched;
    }

    PartitionProgress(TopicPartition partition) {
        this.partition = partition;
        this.name = partition.topic() + "-" + partition.partition();
    }

    /** Delivery thread: records that {@code offset} is about to be handed out; false once revoked. */
    synchronized boolean handOut(long offset) {
        if (closedForDelivery || retired) {
            return false;
        }
        handed = offset;
        return true;
    }

    void ack(long offset) {
        if (retired) {
            return;
        }
        acked = offset;
        synchronized (this) {
            if (closedForDelivery) {
                notifyAll(); // a revocation may be waiting for this ack
            }
        }
    }

    long acked() {
        return acked;
    }

    boolean retired() {
        return retired;
    }

    /**
     * Poll thread, during a revocation: stops handing out, then waits until every handed-out delivery is
     * acknowledged or the deadline passes.
     *
     * @return true when everything handed out was acknowledged
     */
    synchronized boolean closeAndAwaitAcks(long deadlineNanos) throws InterruptedException {
        closedForDelivery = true;
        while (acked < handed) {
            long remaining = deadlineNanos - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            wait(Math.max(1, remaining / 1_000_000));
        }
        return true;
    }

    void retire() {
        retired = true;
        synchronized (this) {
            closedForDelivery = true;
        }
    }
}
