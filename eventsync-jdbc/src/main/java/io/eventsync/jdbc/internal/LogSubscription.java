package io.eventsync.jdbc.internal;

import io.eventsync.EventsyncException;
import io.eventsync.internal.Backoff;
import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.internal.RecordText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of a log topic for a group. Reads by offset in batches, hands each entry to the
 * handler, and stores the group's offset in the consumer's database when acks advance.
 *
 * <p><b>One active reader per group, in both modes.</b> A topic of the embedded log is one ordered
 * sequence (one partition). Letting several consumers of a group read it at once would need per-key
 * claims to keep per-key order, and buys little: the dispatcher behind a subscription already runs
 * keys in parallel lanes. So the consumers of a group compete for a lease ({@code log:<topic>:<group>})
 * in the log's database; the holder reads, the others stand by and take over from the stored offset
 * when it stops or dies. In {@code FANOUT} each group is its own subscriber and reads everything; in
 * {@code QUEUE} the group is the queue and each event goes to whichever consumer holds the lease.
 *
 * <p><b>Exactly-once effect.</b> Delivery is at least once: the offset is stored after the ack, so a
 * crash between the copy's commit and the offset store redelivers events that were already applied
 * (as does a takeover while the previous holder still had events in flight). The consumer's inbox
 * row, inserted in the same transaction as the change (primary key subscription + event id), turns
 * every such redelivery into a skip, so each event takes effect once. Stored offsets only rise.
 */
public final class LogSubscription implements Subscription {
    /**
     * At most this often (and when stopping) the acknowledged offset is stored: two autocommit writes each
     * time, which at a few events per round cost more than the rounds themselves. A crash redelivers what was
     * acknowledged after the last store, which the inbox drops.
     */
    static final long ACK_STORE_INTERVAL_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100);

    private static final Logger log = LoggerFactory.getLogger(LogSubscription.class);
    static final String PARTITION = "0";

    private final LogContext context;
    private final SubscriptionSpec spec;
    private final DeliveryHandler handler;
    private final Offsets offsets;
    private final Runnable onClose;
    private final String owner = UUID.randomUUID().toString();
    private final LeasedLoop loop;
    private final Backoff.Sequence idle;
    private final AtomicLong acked = new AtomicLong(-1);

    /** The group's position when this consumer last became the reader; -1 while it is not. */
    private final AtomicLong readFrom = new AtomicLong(-1);

    private volatile Tables tables;
    private Waiter waiter;
    private long next;
    private long flushed = -1;
    private long flushedAtNanos = System.nanoTime() - ACK_STORE_INTERVAL_NANOS;
    private long highestDelivered = -1;

    public LogSubscription(LogContext context, SubscriptionSpec spec, DeliveryHandler handler, Offsets offsets,
                           Runnable onClose) {
        this.context = context;
        this.spec = spec;
        this.handler = handler;
        this.offsets = offsets;
        this.onClose = onClose;
        this.idle = context.idleBackoff();
        this.loop = new LeasedLoop("eventsync-log-" + spec.topic() + "-" + spec.group(),
                "subscription " + spec.group() + " of log topic " + spec.topic(), context.dataSource(),
                context.leaseDuration(), new Work());
        loop.start(); // after the field is set: the loop's thread reads it
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    /** True while this consumer holds its group's lease and reads. */
    public boolean active() {
        return loop.holding();
    }

    /**
     * The topic's head minus the first offset not yet acknowledged (one indexed row read in the log's
     * database); a consumer standing by owns no partition. Empty when the head cannot be read now.
     */
    @Override
    public Optional<Map<String, Long>> lag() {
        Tables t = tables;
        long from = readFrom.get();
        if (t == null || from < 0 || !loop.holding()) {
            return t == null ? Optional.empty() : Optional.of(Map.of());
        }
        try (Connection c = Jdbc.connect(context.dataSource(), "the lag of subscription " + spec.group());
             PreparedStatement ps = c.prepareStatement(t.dialect().selectLogHead(t))) {
            ps.setString(1, spec.topic());
            long head;
            try (ResultSet rs = ps.executeQuery()) {
                head = rs.next() ? rs.getLong(1) : 0;
            }
            long position = Math.max(from, acked.get());
            return Optional.of(Map.of(PARTITION, Math.max(0, head - position)));
        } catch (SQLException | RuntimeException e) {
            log.debug("subscription {} of log topic {}: reading the head for its lag failed: {}", spec.group(),
                    spec.topic(), e.toString());
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        if (!loop.running()) {
            return;
        }
        loop.close(context.leaseDuration().multipliedBy(2));
        onClose.run();
    }

    /** The subscription's part of its leased loop: one reader per group. */
    private final class Work implements LeasedLoop.Work {
        @Override
        public Lease bind() throws SQLException {
            try (Connection c = Jdbc.connect(context.dataSource(), "log subscription " + spec.group())) {
                Tables t = context.tables(c);
                waiter = Waiter.create(t.dialect(), context.dataSource(), context.channel(spec.topic()),
                        context.signal(spec.topic()));
                tables = t;
                return new Lease(t, "log:" + spec.topic() + ":" + spec.group(), owner, context.leaseDuration());
            }
        }

        @Override
        public void held(Connection c, long epoch, boolean newEpoch) {
            if (newEpoch) {
                // (Re)activated: whatever another consumer acked meanwhile is in the offset store.
                next = Math.max(offsets.load(spec.group(), spec.topic(), PARTITION), acked.get());
                readFrom.set(next);
                reportGroupPosition(c, next);
                log.info("subscription {} of log topic {} reads from offset {}", spec.group(), spec.topic(), next);
            }
        }

        @Override
        public void lost() {
            readFrom.set(-1);
            log.warn("subscription {} of log topic {} lost its group lease; standing by", spec.group(), spec.topic());
        }

        @Override
        public void round() throws SQLException, InterruptedException {
            int delivered = deliverBatch();
            flushAcks(false);
            if (delivered > 0) {
                idle.reset();
            } else if (waiter.await(idle.next().toMillis())) {
                idle.reset();
            }
        }

        @Override
        public EventsyncException failed(Exception e) {
            return e instanceof EventsyncException ee ? ee : new EventsyncException(e.getMessage(), e);
        }

        @Override
        public void stopping() {
            try {
                if (tables != null) {
                    flushAcks(true);
                }
            } catch (SQLException | RuntimeException e) {
                log.warn("subscription {} of log topic {} could not store its last offset; those events are delivered"
                        + " again: {}", spec.group(), spec.topic(), e.getMessage());
            }
        }

        @Override
        public void closed() {
            if (waiter != null) {
                waiter.close();
            }
        }
    }

    private int deliverBatch() throws SQLException, InterruptedException {
        List<Entry> entries = new ArrayList<>();
        try (Connection c = Jdbc.connect(context.dataSource(), "log subscription " + spec.group());
             PreparedStatement ps = c.prepareStatement(tables.dialect().selectLogBatch(tables))) {
            ps.setString(1, spec.topic());
            ps.setLong(2, next);
            ps.setInt(3, context.batchSize());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new Entry(rs.getLong(1), rs.getBytes(2), rs.getString(3)));
                }
            }
        }
        for (Entry e : entries) {
            if (!loop.running() || !loop.holding()) {
                break; // closed, or the keeper found the lease gone: the new holder reads from the stored offset
            }
            int count = e.offset <= highestDelivered ? 2 : 1;
            handler.onDelivery(new LogDelivery(e, count));
            highestDelivered = Math.max(highestDelivered, e.offset);
            next = e.offset + 1;
        }
        return entries.size();
    }

    /** One row of the log; a writer that is not eventsync's publisher may have left any of it empty. */
    private record Entry(long offset, byte[] bytes, String key) {}

    /** Stores the acked position in the consumer's database, and reports it to the log's for retention. */
    private void flushAcks(boolean now) throws SQLException {
        long a = acked.get();
        if (a <= flushed || !now && System.nanoTime() - flushedAtNanos < ACK_STORE_INTERVAL_NANOS) {
            return;
        }
        flushedAtNanos = System.nanoTime();
        offsets.store(spec.group(), spec.topic(), PARTITION, a);
        try (Connection c = Jdbc.connect(context.dataSource(), "log subscription " + spec.group())) {
            c.setAutoCommit(true);
            reportGroupPosition(c, a);
        }
        flushed = a;
    }

    private void reportGroupPosition(Connection c, long position) {
        Positions.raise(c, tables, tables.logGroup(), List.of("consumer_group", "topic"),
                List.of(spec.group(), spec.topic()), position);
    }

    /**
     * One log entry. Its key is the {@code event_key} column, written by the publisher from the event's
     * partition key; an entry whose payload is empty (a writer other than eventsync's publisher) is
     * defective, named as such, and never decoded.
     */
    private final class LogDelivery implements Delivery {
        private final Entry entry;
        private final int count;

        LogDelivery(Entry entry, int count) {
            this.entry = entry;
            this.count = count;
        }

        @Override
        public String partition() {
            return PARTITION;
        }

        @Override
        public long offset() {
            return entry.offset;
        }

        @Override
        public byte[] bytes() {
            return entry.bytes == null ? new byte[0] : entry.bytes;
        }

        @Override
        public int deliveryCount() {
            return count;
        }

        @Override
        public String origin() {
            String where = "log topic " + spec.topic() + " offset " + entry.offset;
            return defect() == null ? where : where + "; event_key " + RecordText.quoted(entry.key);
        }

        @Override
        public String transportKey() {
            return entry.key == null ? "" : entry.key;
        }

        @Override
        public String defect() {
            return entry.bytes == null || entry.bytes.length == 0 ? "the log entry's payload is empty" : null;
        }

        @Override
        public void ack() {
            acked.accumulateAndGet(entry.offset + 1, Math::max);
        }
    }
}
