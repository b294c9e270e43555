package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Appends to one topic of the embedded log. Sends are queued and written by one thread in batches,
 * one transaction per batch: it locks the topic's head row, inserts the entries at the next offsets,
 * moves the head, commits, and only then completes the futures. The head lock serializes writers
 * of a topic, so offsets are gapless and commit in offset order: a reader that has seen offset n
 * never later finds a smaller offset appearing (no late commit inside the log).
 */
public final class LogPublisher implements FencedPublisher {
    /** Payload bytes at most in one multi-row insert (a single larger event goes alone). */
    private static final long MAX_STATEMENT_BYTES = 4L << 20;

    private static final Logger log = LoggerFactory.getLogger(LogPublisher.class);

    private final LogContext context;
    private final String topic;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final Runnable onClose;
    private volatile Fence fence = Fence.NONE;
    private volatile boolean closed;
    private boolean headExists; // writer thread only

    private record Pending(OutboundEvent event, CompletableFuture<Void> done) {}

    public LogPublisher(LogContext context, String topic, Runnable onClose) {
        this.context = context;
        this.topic = topic;
        this.onClose = onClose;
        this.writer = new Thread(this::run, "eventsync-log-writer-" + topic);
        this.writer.setDaemon(true);
        this.writer.start();
    }

    @Override
    public DataSource dataSource() {
        return context.dataSource();
    }

    @Override
    public synchronized void fence(Fence fence) {
        // One fence per publisher: with two relays on one publisher the last to bind would decide for
        // both (a standby's fence blocks the leader; a leader's fence lets a deposed relay write).
        if (this.fence != Fence.NONE && this.fence != fence) {
            throw new ConfigException("log publisher for topic " + topic + " is already fenced by another relay;"
                    + " give each relay its own EmbeddedLog.publisher(topic)");
        }
        this.fence = fence;
    }

    @Override
    public synchronized void unfence(Fence fence) {
        if (this.fence == fence) {
            this.fence = Fence.NONE;
        }
    }

    @Override
    public String transport() {
        return "log";
    }

    @Override
    public String destination() {
        return topic;
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        if (closed) {
            return CompletableFuture.failedFuture(new EventsyncException("log publisher of " + topic + " is closed"));
        }
        if (event.bytes().length > context.maxEventBytes()) {
            return CompletableFuture.failedFuture(new PermanentException("event " + event.envelope().getId() + " is "
                    + event.bytes().length + " bytes, over the log's limit of " + context.maxEventBytes()));
        }
        Pending p = new Pending(event, new CompletableFuture<>());
        queue.add(p);
        return p.done;
    }

    @Override
    public int maxEventBytes() {
        return context.maxEventBytes();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            writer.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        onClose.run();
    }

    private void run() {
        List<Pending> batch = new ArrayList<>();
        try {
            while (!closed || !queue.isEmpty()) {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, context.batchSize() - 1);
                write(batch);
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            EventsyncException stop = new EventsyncException("log publisher of " + topic + " stopped");
            batch.forEach(p -> p.done.completeExceptionally(stop));
            queue.forEach(p -> p.done.completeExceptionally(stop));
        }
    }

    private void write(List<Pending> batch) {
        try (Connection c = Jdbc.connect(context.dataSource(), "appending to log topic " + topic)) {
            Tables t = context.tables(c);
            ensureHead(c, t);
            c.setAutoCommit(false);
            try {
                if (!fence.holds(c)) {
                    c.rollback();
                    fail(batch, new EventsyncException("not appended to log topic " + topic
                            + ": the relay lost its lease to another relay"));
                    return;
                }
                long next = lockHead(c, t);
                int from = 0;
                while (from < batch.size()) {
                    // One multi-row insert per 64 entries, and per MAX_STATEMENT_BYTES of payload (a server's
                    // packet limit, MariaDB's max_allowed_packet, must not refuse events that each fit).
                    int to = from;
                    long bytes = 0;
                    while (to < batch.size() && to - from < 64
                            && (to == from || bytes + batch.get(to).event.bytes().length <= MAX_STATEMENT_BYTES)) {
                        bytes += batch.get(to).event.bytes().length;
                        to++;
                    }
                    for (int size : Chunks.exact(to - from)) {
                        try (PreparedStatement ps = c.prepareStatement(t.dialect().insertLogEntries(t, size))) {
                            int param = 1;
                            for (Pending p : batch.subList(from, from + size)) {
                                ps.setString(param++, topic);
                                ps.setLong(param++, next++);
                                ps.setString(param++, p.event.key());
                                ps.setString(param++, p.event.envelope().getId());
                                ps.setBytes(param++, p.event.bytes());
                            }
                            ps.executeUpdate();
                        }
                        from += size;
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(t.dialect().updateLogHead(t))) {
                    ps.setLong(1, next);
                    ps.setString(2, topic);
                    ps.executeUpdate();
                }
                if (t.dialect().notifySql() != null) {
                    try (PreparedStatement ps = c.prepareStatement(t.dialect().notifySql())) {
                        ps.setString(1, context.channel(topic));
                        ps.execute();
                    }
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                Jdbc.rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            context.signal(topic).signal();
            batch.forEach(p -> p.done.complete(null));
        } catch (SQLException e) {
            Tables t = context.tablesIfKnown();
            fail(batch, Jdbc.failure(t, "appending " + batch.size() + " events to log topic " + topic,
                    t == null ? "log" : t.log(), e));
        } catch (RuntimeException e) {
            fail(batch, e);
        }
    }

    private void fail(List<Pending> batch, Throwable e) {
        log.debug("append to log topic {} failed: {}", topic, e.getMessage());
        batch.forEach(p -> p.done.completeExceptionally(e));
    }

    /**
     * Creates the topic's head row if it is missing, in autocommit before the write transaction: a
     * locking read of a missing row would take a gap lock on MariaDB that the insert then waits for.
     */
    private void ensureHead(Connection c, Tables t) throws SQLException {
        if (headExists) {
            return;
        }
        c.setAutoCommit(true);
        try (PreparedStatement ps = c.prepareStatement(t.dialect().insertLogHead(t))) {
            ps.setString(1, topic);
            ps.executeUpdate();
        } catch (SQLException e) {
            if (!t.dialect().isDuplicateKey(e)) {
                throw e;
            }
        }
        headExists = true;
    }

    /** The topic's next offset, its head row locked until commit. */
    private long lockHead(Connection c, Tables t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.dialect().lockLogHead(t))) {
            ps.setString(1, topic);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return rs.getLong(1);
                }
            }
        }
        headExists = false;
        throw new SQLException("log head of topic " + topic + " is missing in " + t.logHead());
    }
}
