package io.eventsync.kafka.internal;

import io.eventsync.DecodeException;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Kafka consumer in a consumer group, feeding a {@link DeliveryHandler}.
 *
 * <p><b>Where offsets live.</b> Offsets are committed to Kafka, and only for work that is done: a
 * partition's committed offset is its highest acknowledged offset + 1, and the Delivery contract says
 * acks come in offset order only after the event and all earlier ones were applied, skipped or
 * dead-lettered. The alternative (offsets stored in the copy's database in the apply transaction and
 * sought on assignment) would make the transport depend on the apply path's storage; it buys nothing
 * here because the copy's inbox already deduplicates by event id in the apply transaction, so the
 * worst case of a Kafka-committed offset (a crash between apply and commit) is a harmless redelivery.
 *
 * <p><b>Threads.</b> The poll thread ({@code eventsync-kafka-<group>}) owns the {@link KafkaConsumer}
 * (which is not thread-safe): it polls, commits, pauses and resumes. The delivery thread
 * ({@code ...-deliver}) takes records from a queue and calls the handler, which may block to push back.
 * Blocking never reaches the poll thread, so it keeps polling within {@code max.poll.interval.ms} and
 * the group does not evict this member under load; instead, when the queue holds {@code maxQueued}
 * records the poll thread pauses every assigned partition (polls then only heartbeat) and resumes them
 * when the queue has drained to half.
 *
 * <p><b>Rebalance.</b> When partitions are revoked, the records of those partitions still queued are
 * dropped (the next owner reads them again from the committed offset), nothing more of them is handed
 * out, and the poll thread waits, up to {@code revokeTimeout}, for the handler to acknowledge what it
 * already received; then it commits what finished, synchronously, before the partitions move. A late
 * ack of a revoked partition is ignored (see {@link PartitionProgress}), so it cannot commit over the
 * new owner.
 */
public final class KafkaSubscription implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(KafkaSubscription.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(30);
    /** How often the poll thread measures the lag, and how long it may wait for end offsets. */
    private static final Duration LAG_INTERVAL = Duration.ofSeconds(1);
    private static final Duration END_OFFSETS_TIMEOUT = Duration.ofSeconds(2);

    private final SubscriptionSpec spec;
    private final DeliveryHandler handler;
    private final Function<GroupProtocol, KafkaConsumer<String, byte[]>> consumers;
    private final GroupProtocols protocols;
    /** Poll thread writes (only when falling back to the classic protocol); close() reads it to wake it. */
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile GroupProtocol protocol;
    private final int maxQueued;
    private final Duration revokeTimeout;
    private final Duration commitInterval;
    private final Consumer<KafkaSubscription> onClose;
    private final KafkaMetrics.Consuming metrics;
    private final Map<TopicPartition, PartitionProgress> assigned = new ConcurrentHashMap<>();
    private final BlockingQueue<KafkaDelivery> queue = new LinkedBlockingQueue<>();
    private final Thread pollThread;
    private final Thread deliveryThread;

    /** Partitions being revoked while their in-flight deliveries finish; for logs, metrics and tests. */
    private final Set<String> revoking = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;
    private boolean paused; // poll thread only
    private long lastCommitNanos; // poll thread only
    private long lastLagNanos; // poll thread only
    /** Per owned partition, what the poll thread last measured; null before the first measure. */
    private volatile Map<String, Long> lag;

    /**
     * @param consumers makes this subscription's consumer for a group protocol; called on the calling
     *                  thread for the first one and on the poll thread for a fallback to the classic one
     * @param protocols which protocol to start with, and whether a refused consumer protocol falls back
     */
    public KafkaSubscription(SubscriptionSpec spec, DeliveryHandler handler,
                             Function<GroupProtocol, KafkaConsumer<String, byte[]>> consumers, GroupProtocols protocols,
                             String threadName, int maxQueued, Duration revokeTimeout, Duration commitInterval,
                             KafkaMetrics metrics, Consumer<KafkaSubscription> onClose) {
        this.metrics = metrics.consuming(spec.topic(), spec.group(), queue::size);
        this.spec = spec;
        this.handler = handler;
        this.consumers = consumers;
        this.protocols = protocols;
        this.protocol = protocols.current();
        this.consumer = consumers.apply(protocol);
        this.maxQueued = maxQueued;
        this.revokeTimeout = revokeTimeout;
        this.commitInterval = commitInterval;
        this.onClose = onClose;
        this.pollThread = new Thread(this::pollLoop, threadName);
        this.deliveryThread = new Thread(this::deliveryLoop, threadName + "-deliver");
    }

    public void start() {
        pollThread.start();
        deliveryThread.start();
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    /** The partitions this consumer owns now, as {@code <topic>-<partition>}; empty before the first assignment. */
    public Set<String> assignedPartitions() {
        Set<String> names = new HashSet<>();
        assigned.values().forEach(progress -> names.add(progress.name));
        return names;
    }

    /** The group protocol this subscription's consumer uses now. */
    public GroupProtocol groupProtocol() {
        return protocol;
    }

    private void pollLoop() {
        try {
            consumer.subscribe(List.of(spec.topic()), new RebalanceListener());
            while (!closing) {
                ConsumerRecords<String, byte[]> records;
                try {
                    records = consumer.poll(POLL_TIMEOUT);
                } catch (UnsupportedVersionException e) {
                    if (!fallBackToClassic(e)) {
                        throw e;
                    }
                    continue;
                }
                for (ConsumerRecord<String, byte[]> record : records) {
                    enqueue(record);
                }
                applyBackpressure();
                commitAcknowledged(false);
                measureLag();
            }
        } catch (WakeupException e) {
            // close() woke us up.
        } catch (RuntimeException e) {
            if (!closing) {
                log.error("Kafka consumer of topic {} group {} failed; the subscription stops and its"
                        + " unacknowledged events will be delivered again", spec.topic(), spec.group(), e);
            }
        } finally {
            closing = true;
            deliveryThread.interrupt();
            shutDownConsumer();
        }
    }

    /**
     * The broker refused the consumer group protocol (it answers the group heartbeat before any
     * assignment, so nothing was received yet): under AUTO, replace the consumer by a classic one.
     */
    private boolean fallBackToClassic(UnsupportedVersionException e) {
        if (protocol != GroupProtocol.CONSUMER || !assigned.isEmpty()) {
            return false;
        }
        if (!protocols.fallBack(protocol)) {
            log.error("the Kafka cluster refused the consumer group protocol (KIP-848) for group {} ({}); set"
                    + " groupProtocol AUTO or CLASSIC (pipeline: group_protocol: auto | classic)", spec.group(),
                    e.getMessage());
            return false;
        }
        log.warn("the Kafka cluster does not support the consumer group protocol (KIP-848) for group {}; using"
                + " the classic protocol, whose rebalances pause the whole group ({})", spec.group(), e.getMessage());
        KafkaConsumer<String, byte[]> refused = consumer;
        try {
            refused.close(CloseOptions.timeout(Duration.ZERO));
        } catch (RuntimeException closeFailure) {
            log.debug("closing the refused consumer of group {} failed", spec.group(), closeFailure);
        }
        protocol = GroupProtocol.CLASSIC;
        consumer = consumers.apply(protocol);
        consumer.subscribe(List.of(spec.topic()), new RebalanceListener());
        return true;
    }

    private void enqueue(ConsumerRecord<String, byte[]> record) {
        PartitionProgress progress = assigned.get(new TopicPartition(record.topic(), record.partition()));
        if (progress == null) {
            return; // revoked between fetch and here: the next owner reads it
        }
        byte[] bytes;
        String defect = null;
        try {
            bytes = CloudEventsBinding.envelopeBytes(record.headers(), record.value());
        } catch (DecodeException e) {
            // Not an event: handed on with its raw value and the defect named, never decoded as an envelope
            // (in binary mode the value is only the payload), so the consumer dead-letters it with this reason
            // and parks at most the record key, while the rest of the partition keeps flowing.
            defect = e.getMessage();
            bytes = record.value() == null ? new byte[0] : record.value();
            log.debug("record {}-{}@{} is not a well-formed eventsync event: {}", record.topic(), record.partition(),
                    record.offset(), defect);
        }
        if (progress.firstFetched < 0) {
            progress.firstFetched = record.offset();
        }
        queue.add(new KafkaDelivery(progress, record.offset(), bytes, record.key(), defect,
                defect == null ? null : record.headers()));
    }

    private void applyBackpressure() {
        int queued = queue.size();
        if (queued >= maxQueued) {
            Set<TopicPartition> toPause = new HashSet<>(consumer.assignment());
            toPause.removeAll(consumer.paused());
            if (!toPause.isEmpty()) {
                consumer.pause(toPause);
            }
            if (!paused) {
                metrics.paused().increment();
                log.debug("group {} paused fetching: {} records queued", spec.group(), queued);
            }
            paused = true;
        } else if (paused && queued <= maxQueued / 2) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    /**
     * What {@link #measureLag} last found: per owned partition, the end offset minus the first offset not
     * yet acknowledged (records queued here and handed out count, as do those still at the broker).
     */
    @Override
    public Optional<Map<String, Long>> lag() {
        return Optional.ofNullable(lag);
    }

    /**
     * Poll thread, once a second: the consumer is not thread-safe, so the lag is measured here and read
     * by {@link #lag()}. The end offset comes from the last fetch ({@code currentLag}, no request) while
     * fetching; a paused partition fetches nothing, so its end offset is asked for (one ListOffsets
     * request, bounded), as is any the consumer does not know yet.
     */
    private void measureLag() {
        long now = System.nanoTime();
        if (now - lastLagNanos < LAG_INTERVAL.toNanos()) {
            return;
        }
        lastLagNanos = now;
        Map<TopicPartition, Long> ends = new HashMap<>();
        List<TopicPartition> ask = new java.util.ArrayList<>();
        Set<TopicPartition> pausedNow = consumer.paused();
        for (TopicPartition tp : assigned.keySet()) {
            java.util.OptionalLong behind = pausedNow.contains(tp) ? java.util.OptionalLong.empty() : consumer.currentLag(tp);
            if (behind.isPresent()) {
                ends.put(tp, consumer.position(tp, POLL_TIMEOUT) + behind.getAsLong());
            } else {
                ask.add(tp);
            }
        }
        if (!ask.isEmpty()) {
            try {
                consumer.endOffsets(ask, END_OFFSETS_TIMEOUT).forEach(ends::put);
            } catch (WakeupException e) {
                throw e;
            } catch (KafkaException e) {
                log.debug("group {}: end offsets of {} for the lag failed: {}", spec.group(), ask, e.toString());
            }
        }
        Map<String, Long> out = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
            PartitionProgress progress = assigned.get(end.getKey());
            if (progress == null) {
                continue;
            }
            long from = progress.firstUnacknowledged();
            if (from < 0) {
                try {
                    from = consumer.position(end.getKey(), POLL_TIMEOUT);
                } catch (KafkaException e) {
                    continue; // no position yet (offset lookup in progress): not measured this time
                }
            }
            out.put(progress.name, Math.max(0, end.getValue() - from));
        }
        lag = Map.copyOf(out);
    }

    private void commitAcknowledged(boolean sync) {
        long now = System.nanoTime();
        if (!sync && now - lastCommitNanos < commitInterval.toNanos()) {
            return;
        }
        if (sync) {
            lastCommitNanos = now;
            commitSync(allAcknowledged(assigned.values()));
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = acknowledgedOffsets(assigned.values());
        if (offsets.isEmpty()) {
            return;
        }
        lastCommitNanos = now;
        consumer.commitAsync(offsets, (committed, error) -> {
            if (error != null) {
                // Committed again on a later poll: the acked offsets are still there. The offsets tried are
                // ours: on a failure the consumer may pass null for them (it did while the broker restarted),
                // and an exception thrown here would end the poll loop.
                log.debug("async offset commit for group {} failed; will retry", spec.group(), error);
                for (TopicPartition partition : offsets.keySet()) {
                    PartitionProgress progress = assigned.get(partition);
                    if (progress != null) {
                        progress.committed = -1;
                    }
                }
            }
        });
    }

    /** Offsets to commit: acked + 1 wherever that moved since the last commit. */
    private static Map<TopicPartition, OffsetAndMetadata> acknowledgedOffsets(Collection<PartitionProgress> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (PartitionProgress progress : partitions) {
            long next = progress.acked() + 1;
            if (next > 0 && next != progress.committed) {
                offsets.put(progress.partition, new OffsetAndMetadata(next));
                progress.committed = next;
            }
        }
        return offsets;
    }

    /**
     * Offsets to commit before partitions move or the consumer closes: acked + 1 of every partition with
     * an ack, whatever was sent before, since an earlier asynchronous commit of the same offsets may still
     * fail after this point and the next owner would then start further back than necessary.
     */
    private static Map<TopicPartition, OffsetAndMetadata> allAcknowledged(Collection<PartitionProgress> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (PartitionProgress progress : partitions) {
            if (progress.acked() >= 0) {
                offsets.put(progress.partition, new OffsetAndMetadata(progress.acked() + 1));
                progress.committed = progress.acked() + 1;
            }
        }
        return offsets;
    }

    private void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        for (int attempt = 1; ; attempt++) {
            try {
                consumer.commitSync(offsets, COMMIT_TIMEOUT);
                return;
            } catch (WakeupException e) {
                if (attempt == 2) {
                    throw e;
                } // a wakeup from close() was pending; the second attempt runs
            } catch (KafkaException e) {
                // Not lost: these events are delivered again to the next owner and deduplicated by the inbox.
                log.warn("offset commit for group {} failed ({}); {} will be delivered again", spec.group(),
                        e.getMessage(), offsets.keySet());
                return;
            }
        }
    }

    private void shutDownConsumer() {
        try {
            commitAcknowledged(true);
        } catch (RuntimeException e) {
            log.warn("final offset commit for group {} failed", spec.group(), e);
        }
        try {
            consumer.close(CloseOptions.timeout(COMMIT_TIMEOUT));
        } catch (RuntimeException e) {
            log.warn("closing the Kafka consumer of group {} failed", spec.group(), e);
        }
        for (PartitionProgress progress : assigned.values()) {
            progress.retire();
        }
        assigned.clear();
        onClose.accept(this);
    }

    private void deliveryLoop() {
        try {
            while (!closing) {
                KafkaDelivery delivery = queue.take();
                if (delivery.progress().handOut(delivery.offset())) {
                    metrics.delivered().increment();
                    handler.onDelivery(delivery);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() or the poll thread stopping
        } catch (RuntimeException e) {
            // The handler broke its contract (it should turn failures into outcomes). Stopping is the
            // safe answer: nothing after this event is acknowledged, so nothing is lost.
            log.error("delivery handler of topic {} group {} threw; the subscription stops and its"
                    + " unacknowledged events will be delivered again", spec.topic(), spec.group(), e);
            closing = true;
            consumer.wakeup();
        }
    }

    /** Stops fetching, commits what was acknowledged and leaves the group. Idempotent. */
    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        deliveryThread.interrupt();
        Thread current = Thread.currentThread();
        if (current != pollThread && current != deliveryThread) {
            join(pollThread);
            join(deliveryThread);
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(JOIN_TIMEOUT.toMillis());
            if (thread.isAlive()) {
                log.warn("thread {} did not stop within {}", thread.getName(), JOIN_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Partitions this consumer is giving up and still waiting on (in-flight deliveries not yet acknowledged). */
    public Set<String> revokingPartitions() {
        return Set.copyOf(revoking);
    }

    /** Tells the handler which partitions it no longer owns; a failing handler must not break the rebalance. */
    private void released(Collection<TopicPartition> partitions) {
        try {
            handler.onPartitionsReleased(partitions.stream().map(p -> p.topic() + "-" + p.partition()).toList());
        } catch (RuntimeException e) {
            log.warn("group {}: the handler failed on released partitions {}: {}", spec.group(), partitions, e.toString());
        }
    }

    private final class RebalanceListener implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            for (TopicPartition partition : partitions) {
                assigned.put(partition, new PartitionProgress(partition));
            }
            if (paused && !partitions.isEmpty()) {
                consumer.pause(partitions);
            }
            log.debug("group {} assigned {}", spec.group(), partitions);
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Set<TopicPartition> revoked = Set.copyOf(partitions);
            queue.removeIf(delivery -> revoked.contains(delivery.progress().partition));
            long started = System.nanoTime();
            long deadline = started + (closing ? 0 : revokeTimeout.toNanos());
            for (TopicPartition partition : partitions) {
                PartitionProgress progress = assigned.get(partition);
                if (progress == null) {
                    continue;
                }
                revoking.add(progress.name);
                try {
                    if (!progress.closeAndAwaitAcks(deadline) && !closing) {
                        log.warn("partition {} revoked from group {} with deliveries still in flight after {};"
                                + " the next owner gets them again", progress.name, spec.group(), revokeTimeout);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                } finally {
                    revoking.remove(progress.name);
                }
            }
            metrics.revokeWait().record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
            try {
                commitSync(allAcknowledged(select(partitions)));
            } finally {
                for (TopicPartition partition : partitions) {
                    PartitionProgress progress = assigned.remove(partition);
                    if (progress != null) {
                        progress.retire();
                    }
                }
            }
            released(partitions);
            log.debug("group {} revoked {}", spec.group(), partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            // The group already gave them to someone else: committing now could move their offsets under
            // the new owner, so retire without committing.
            Set<TopicPartition> lost = Set.copyOf(partitions);
            queue.removeIf(delivery -> lost.contains(delivery.progress().partition));
            for (TopicPartition partition : partitions) {
                PartitionProgress progress = assigned.remove(partition);
                if (progress != null) {
                    progress.retire();
                }
            }
            released(partitions);
            log.warn("group {} lost partitions {}; their unacknowledged events will be delivered again",
                    spec.group(), partitions);
        }

        private List<PartitionProgress> select(Collection<TopicPartition> partitions) {
            return partitions.stream().map(assigned::get).filter(p -> p != null).toList();
        }
    }
}
