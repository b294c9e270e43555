package io.eventsync.transport.inprocess;

import io.eventsync.ConfigException;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.DeliveryMode;
import io.eventsync.transport.SubscriptionSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One topic: partitions of events in append order, and the groups consuming it. One lock guards the
 * partitions, every group's positions and its partition assignment; consumers wait on {@link #changed}
 * for new events or a new assignment (no polling).
 */
final class InProcessTopic {
    private final String name;
    private final List<List<byte[]>> partitions = new ArrayList<>();
    private final Map<String, Group> groups = new HashMap<>();
    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();

    InProcessTopic(String name, int partitionCount) {
        this.name = name;
        for (int i = 0; i < partitionCount; i++) {
            partitions.add(new ArrayList<>());
        }
    }

    String name() {
        return name;
    }

    int partitionCount() {
        return partitions.size();
    }

    /** The partition of a key: a stable hash, so one key always lands in one partition (its order). */
    int partitionOf(String key) {
        return Math.floorMod(key.hashCode(), partitions.size());
    }

    void append(String key, byte[] bytes) {
        lock.lock();
        try {
            partitions.get(partitionOf(key)).add(bytes.clone());
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Appends one copy to every partition (a heartbeat), each in its partition's order. */
    void appendToAll(byte[] bytes) {
        lock.lock();
        try {
            for (List<byte[]> partition : partitions) {
                partition.add(bytes.clone());
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Guarded by {@link #lock}. */
    int size(int partition) {
        return partitions.get(partition).size();
    }

    /** Guarded by {@link #lock}. */
    byte[] read(int partition, long offset) {
        return partitions.get(partition).get((int) offset);
    }

    InProcessSubscription join(SubscriptionSpec spec, DeliveryHandler handler) {
        lock.lock();
        try {
            Group group = groups.computeIfAbsent(spec.group(), g -> new Group(spec.mode(), partitions.size()));
            if (group.mode != spec.mode()) {
                throw new ConfigException("group " + spec.group() + " of in-process topic " + name
                        + " consumes in " + group.mode + " mode; cannot join it in " + spec.mode() + " mode");
            }
            InProcessSubscription member = new InProcessSubscription(this, spec, handler, group, ++group.joined);
            group.members.add(member);
            rebalance(group);
            member.start();
            return member;
        } finally {
            lock.unlock();
        }
    }

    void leave(InProcessSubscription member) {
        lock.lock();
        try {
            Group group = member.group();
            if (group.members.remove(member)) {
                rebalance(group);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Splits the partitions among the group's members, round robin in join order. A partition that
     * changes hands restarts at the group's acknowledged position, so whatever its previous consumer
     * had not acknowledged is delivered again.
     */
    private void rebalance(Group group) {
        group.generation++;
        int n = group.members.size();
        for (int i = 0; i < n; i++) {
            InProcessSubscription member = group.members.get(i);
            boolean[] next = new boolean[partitions.size()];
            for (int p = i; p < partitions.size(); p += n) {
                next[p] = true;
            }
            member.assign(next, group.committed);
        }
        changed.signalAll();
    }

    /** A consumer group: its mode, acknowledged positions and members. Guarded by the topic lock. */
    static final class Group {
        final DeliveryMode mode;
        /** Per partition: the next offset not yet acknowledged. */
        final long[] committed;
        /** Per partition: one past the highest offset ever delivered, to tell redeliveries. */
        final long[] delivered;
        final List<InProcessSubscription> members = new ArrayList<>();
        int generation;
        int joined;

        Group(DeliveryMode mode, int partitions) {
            this.mode = mode;
            this.committed = new long[partitions];
            this.delivered = new long[partitions];
        }
    }
}
