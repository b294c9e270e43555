package io.eventsync.jdbc.internal;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay's heartbeats: at an interval, also when the outbox is idle, one {@link Heartbeats heartbeat}
 * into every partition of the topic, so consumers can measure how fresh their copy is.
 *
 * <p>The guarantee a heartbeat carries: every event of the source committed before its time (the
 * source database's clock, read just before the outbox read that preceded it) and visible to that read
 * was published before it. So the relay reads the clock before a read when a heartbeat is due
 * ({@link #beforeRead}), and sends only after that round caught up ({@link #caughtUp}): every row it
 * read was confirmed, none is failing or in flight, and the read was not cut by the batch size. Rows of
 * parked keys are the exception: they wait for an operator and are counted as dead letters instead.
 *
 * <p>A heartbeat send never blocks the relay and never fails it: it is not waited for, a failure is
 * logged, and no new one goes out while one is still in flight. Owned by the relay thread.
 */
public final class RelayHeartbeat {
    private static final Logger log = LoggerFactory.getLogger(RelayHeartbeat.class);
    private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final String source;
    private final Publisher publisher;
    private final long intervalNanos;
    private final EnvelopeCodec codec = EnvelopeCodec.defaults();
    private long lastSentNanos;
    private boolean sentOnce;
    /** After a due heartbeat had to be dropped: not again before this (System.nanoTime). */
    private long notBeforeNanos;
    private Instant readTime;
    private long position;
    private CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
    private final AtomicInteger failuresInRow = new AtomicInteger();

    /** @param interval zero disables heartbeats */
    public RelayHeartbeat(String source, Publisher publisher, Duration interval) {
        this.source = source;
        this.publisher = publisher;
        this.intervalNanos = interval.toNanos();
    }

    public boolean enabled() {
        return intervalNanos > 0;
    }

    /** Milliseconds until the next heartbeat is due (0 when it is); Long.MAX_VALUE when disabled. */
    public long millisUntilDue(long nowNanos) {
        if (!enabled()) {
            return Long.MAX_VALUE;
        }
        if (!inFlight.isDone()) {
            return Long.MAX_VALUE; // the last one still hangs: no new one, and no reason to wake for it
        }
        long retry = Math.max(0, TimeUnit.NANOSECONDS.toMillis(notBeforeNanos - nowNanos));
        if (!sentOnce) {
            return retry;
        }
        return Math.max(retry, TimeUnit.NANOSECONDS.toMillis(lastSentNanos + intervalNanos - nowNanos));
    }

    /** Before the outbox read, on its connection (autocommit): reads the database clock if a heartbeat is due. */
    public void beforeRead(Connection c, Dialect dialect, long nowNanos) throws SQLException {
        readTime = null;
        if (!enabled() || millisUntilDue(nowNanos) > 0 || !inFlight.isDone()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(dialect.selectNow()); ResultSet rs = ps.executeQuery()) {
            rs.next();
            readTime = dialect.instant(rs, 1);
        }
    }

    /** Rows up to {@code position} were confirmed and deleted. */
    public void published(long position) {
        this.position = Math.max(this.position, position);
    }

    /** The relay lost track of what the read covered (a failure, a lost lease): no heartbeat for it. */
    public void discard() {
        if (readTime != null) {
            // A heartbeat was due but the round could not vouch for it (a key failing or in flight): try
            // again after a pause, not on every 1 ms round while that lasts.
            notBeforeNanos = System.nanoTime() + Math.min(intervalNanos, RETRY_NANOS);
        }
        readTime = null;
    }

    /** The round that followed {@link #beforeRead} caught up: sends the heartbeat if one is due. */
    public void caughtUp(long nowNanos) {
        Instant time = readTime;
        readTime = null;
        if (time == null) {
            return;
        }
        send(time, position, nowNanos);
    }

    /** True while the last heartbeat sent is not settled yet: no other goes out meanwhile. */
    public boolean sending() {
        return !inFlight.isDone();
    }

    /**
     * Sends a heartbeat for {@code time} now, not waiting for it. The caller vouches that every event of
     * the source committed before {@code time} was confirmed ({@link #caughtUp}; the WAL relay once its
     * slot confirmed past the freshness mark that carried the time).
     */
    public void send(Instant time, long position, long nowNanos) {
        lastSentNanos = nowNanos;
        sentOnce = true;
        Envelope heartbeat = Heartbeats.create(source, time, position);
        try {
            inFlight = publisher.sendToAllPartitions(new OutboundEvent(heartbeat, codec.encode(heartbeat)));
        } catch (RuntimeException e) {
            inFlight = CompletableFuture.failedFuture(e);
        }
        inFlight.whenComplete((ok, error) -> {
            if (error == null) {
                failuresInRow.set(0);
            } else if (failuresInRow.getAndIncrement() % 60 == 0) {
                // Events keep flowing; the copies' freshness rises until heartbeats go through again.
                log.warn("relay of outbox {}: sending a heartbeat failed ({} in a row); events are not affected: {}",
                        source, failuresInRow.get(), error.toString());
            } else {
                log.debug("relay of outbox {}: sending a heartbeat failed: {}", source, error.toString());
            }
        });
    }
}
