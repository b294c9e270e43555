package io.eventsync.handler;

import io.eventsync.transport.Delivery;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Plays a transport for dispatcher tests: makes deliveries with increasing offsets per partition and
 * checks every acknowledgement against the Delivery contract (once, in offset order, only when done).
 */
final class AckLog {
    private final Predicate<String> isDone;
    private final Map<String, Long> nextOffset = new HashMap<>();
    private final Map<String, List<Long>> delivered = new HashMap<>();
    private final Map<String, Integer> ackedUpTo = new HashMap<>();
    private final Set<String> ackedKeys = new HashSet<>();
    private final List<String> violations = new ArrayList<>();
    private int acks;

    /** @param isDone whether the event with this id is applied, skipped or dead-lettered right now */
    AckLog(Predicate<String> isDone) {
        this.isDone = isDone;
    }

    synchronized Delivery next(String partition, String eventId, byte[] bytes) {
        long offset = nextOffset.merge(partition, 1L, Long::sum) - 1;
        delivered.computeIfAbsent(partition, p -> new ArrayList<>()).add(offset);
        return new TestDelivery(partition, offset, eventId, bytes);
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized int acks() {
        return acks;
    }

    synchronized boolean acked(String partition, long offset) {
        return ackedKeys.contains(partition + "@" + offset);
    }

    private synchronized void ack(TestDelivery d) {
        acks++;
        if (!ackedKeys.add(d.partition + "@" + d.offset)) {
            violations.add("acked twice: " + d.partition + "@" + d.offset);
            return;
        }
        int position = ackedUpTo.getOrDefault(d.partition, 0);
        List<Long> offsets = delivered.get(d.partition);
        if (offsets.get(position) != d.offset) {
            violations.add("acked out of order: " + d.partition + "@" + d.offset + " before @" + offsets.get(position));
        }
        ackedUpTo.put(d.partition, position + 1);
        if (d.eventId != null && !isDone.test(d.eventId)) {
            violations.add("acked before done: " + d.partition + "@" + d.offset + " event " + d.eventId);
        }
    }

    private final class TestDelivery implements Delivery {
        final String partition;
        final long offset;
        final String eventId;
        final byte[] bytes;

        TestDelivery(String partition, long offset, String eventId, byte[] bytes) {
            this.partition = partition;
            this.offset = offset;
            this.eventId = eventId;
            this.bytes = bytes;
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
            return bytes;
        }

        @Override
        public int deliveryCount() {
            return 1;
        }

        @Override
        public void ack() {
            AckLog.this.ack(this);
        }
    }
}
