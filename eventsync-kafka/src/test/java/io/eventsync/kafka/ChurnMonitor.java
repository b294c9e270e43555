package io.eventsync.kafka;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Watches a consumer group from outside, as an operator's lag dashboard would: every 100 ms its
 * committed offsets against the topic's end offsets, every 500 ms which member owns which partition.
 * A partition stalls while it has records the group has not committed and its commit does not move; the
 * group pauses while there is work and no partition's commit moves. Moves count the partitions that
 * changed owner, and those that went to a member already running for a while (not just joined).
 */
final class ChurnMonitor {
    private static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** A member that has been in the group this long is "already running" when it receives a partition. */
    private static final long SETTLED_NANOS = TimeUnit.SECONDS.toNanos(3);

    private final String bootstrap;
    private final String group;
    private final List<TopicPartition> partitions;
    private final Thread thread;
    private volatile boolean stopped;

    // Written by the monitor thread, read by the test thread (volatile or guarded by this).
    private final long[] committed;
    private final long[] lastProgressNanos;
    private long lastGroupProgressNanos = -1;
    private volatile long longestGroupPauseNanos;
    private volatile long longestPartitionStallNanos;
    private volatile String longestGroupPauseWhen = "none";
    private volatile String longestPartitionStallWhen = "none";
    private volatile boolean caughtUp;
    /** Guarded by this: the last known owner of each partition, and the current assignment. */
    private final Map<Integer, String> ownerMember = new HashMap<>();
    private Map<Integer, String> currentOwners = Map.of();
    private java.util.Set<String> currentClients = java.util.Set.of();
    private final Map<String, String> clientOfMember = new HashMap<>();
    private final Map<String, Long> memberFirstSeenNanos = new HashMap<>();
    private int moves;
    private int movesToRunningMembers;
    private volatile Exception failure;

    ChurnMonitor(String bootstrap, String topic, String group, int partitionCount) {
        this.bootstrap = bootstrap;
        this.group = group;
        this.partitions = java.util.stream.IntStream.range(0, partitionCount)
                .mapToObj(p -> new TopicPartition(topic, p)).toList();
        this.committed = new long[partitionCount];
        this.lastProgressNanos = new long[partitionCount];
        java.util.Arrays.fill(lastProgressNanos, -1);
        this.thread = new Thread(this::run, "churn-monitor");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    void stop() throws InterruptedException {
        stopped = true;
        thread.join(10_000);
        if (failure != null) {
            throw new IllegalStateException("the group monitor failed", failure);
        }
    }

    long longestGroupPauseMillis() {
        return TimeUnit.NANOSECONDS.toMillis(longestGroupPauseNanos);
    }

    /** Wall-clock window of the longest group pause, to read against the nodes' logs. */
    String longestGroupPauseWhen() {
        return longestGroupPauseWhen;
    }

    String longestPartitionStallWhen() {
        return longestPartitionStallWhen;
    }

    private static String window(long nowNanos, long lengthNanos) {
        java.time.LocalTime end = java.time.LocalTime.now();
        return end.minusNanos(lengthNanos) + " to " + end;
    }

    long longestPartitionStallMillis() {
        return TimeUnit.NANOSECONDS.toMillis(longestPartitionStallNanos);
    }

    /** Every record of the topic committed by the group at the last sample. */
    boolean caughtUp() {
        return caughtUp;
    }

    synchronized int moves() {
        return moves;
    }

    synchronized int movesToRunningMembers() {
        return movesToRunningMembers;
    }

    /** The group had a member with this client id at the last look. */
    synchronized boolean hasMember(String clientId) {
        return currentClients.contains(clientId);
    }

    /** Every partition has an owner and none is the member whose client id is {@code clientId}. */
    synchronized boolean everyPartitionOwnedByOthersThan(String clientId) {
        Map<Integer, String> owners = currentOwners;
        return owners.size() == partitions.size()
                && owners.values().stream().noneMatch(member -> clientId.equals(clientOfMember.get(member)));
    }

    private void run() {
        try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", bootstrap,
                "default.api.timeout.ms", 5_000, "request.timeout.ms", 5_000))) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(p -> latest.put(p, OffsetSpec.latest()));
            long next = System.nanoTime();
            for (int sample = 0; !stopped; sample++) {
                next += SAMPLE_NANOS;
                LockSupport.parkNanos(Math.max(0, next - System.nanoTime())); // sampling rate, not a wait
                try {
                    sampleOffsets(admin, latest);
                    if (sample % 5 == 0) {
                        sampleOwners(admin);
                    }
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // A slow answer under load: the next sample measures the same stretch.
                }
            }
        } catch (Exception e) {
            failure = e;
        }
    }

    private void sampleOffsets(Admin admin, Map<TopicPartition, OffsetSpec> latest) throws Exception {
        var ends = admin.listOffsets(latest).all().get(5, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetAndMetadata> commits = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
        long now = System.nanoTime();
        boolean anyProgress = false;
        boolean anyWork = false;
        for (int p = 0; p < partitions.size(); p++) {
            TopicPartition partition = partitions.get(p);
            OffsetAndMetadata commit = commits.get(partition);
            long position = commit == null ? 0 : commit.offset();
            long lag = ends.get(partition).offset() - position;
            boolean moved = position > committed[p];
            committed[p] = Math.max(committed[p], position);
            if (moved || lag <= 0) {
                lastProgressNanos[p] = now;
            } else if (position > 0 && lastProgressNanos[p] >= 0) {
                // Measured from the partition's first commit on: joining the group at start is not a stall.
                if (now - lastProgressNanos[p] > longestPartitionStallNanos) {
                    longestPartitionStallNanos = now - lastProgressNanos[p];
                    longestPartitionStallWhen = window(now, longestPartitionStallNanos) + " partition " + p;
                }
            }
            anyProgress |= moved;
            anyWork |= lag > 0;
        }
        caughtUp = !anyWork;
        if (anyProgress || (!anyWork && lastGroupProgressNanos >= 0)) {
            lastGroupProgressNanos = now; // from the group's first commit on
        } else if (lastGroupProgressNanos >= 0) {
            if (now - lastGroupProgressNanos > longestGroupPauseNanos) {
                longestGroupPauseNanos = now - lastGroupProgressNanos;
                longestGroupPauseWhen = window(now, longestGroupPauseNanos);
            }
        }
    }

    private void sampleOwners(Admin admin) throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all()
                .get(5, TimeUnit.SECONDS).get(group);
        long now = System.nanoTime();
        Map<Integer, String> owners = new HashMap<>();
        synchronized (this) {
            for (MemberDescription member : description.members()) {
                clientOfMember.put(member.consumerId(), member.clientId());
                memberFirstSeenNanos.putIfAbsent(member.consumerId(), now);
                for (TopicPartition partition : member.assignment().topicPartitions()) {
                    owners.put(partition.partition(), member.consumerId());
                }
            }
            for (Map.Entry<Integer, String> owner : owners.entrySet()) {
                String before = ownerMember.get(owner.getKey());
                if (before != null && !before.equals(owner.getValue())) {
                    moves++;
                    if (now - memberFirstSeenNanos.get(owner.getValue()) >= SETTLED_NANOS) {
                        movesToRunningMembers++;
                    }
                }
            }
            // A partition without owner right now keeps its last one, so its next owner counts as a move.
            ownerMember.putAll(owners);
            currentOwners = Map.copyOf(owners);
            currentClients = description.members().stream().map(MemberDescription::clientId)
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());
        }
    }

}
