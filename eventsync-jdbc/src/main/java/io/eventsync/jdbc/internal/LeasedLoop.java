package io.eventsync.jdbc.internal;

import io.eventsync.EventsyncException;
import io.eventsync.internal.Backoff;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of a worker that works only while it holds a fenced {@link Lease}: the relay of an outbox,
 * the reader of a log group. It owns the worker's named thread and stop latch; binds (resolves tables,
 * builds the lease) until that succeeds; acquires the lease and renews it at a third of its duration;
 * stands by while another owner holds it; pauses after a failure (100 ms doubling to 5 s, reset by the
 * next good round); and when closed, lets the worker finish, releases the lease so a successor need
 * not wait for it to expire, and joins the thread within a bound.
 */
public final class LeasedLoop {
    private static final Logger log = LoggerFactory.getLogger(LeasedLoop.class);
    /** The pause after a failed round of a leased worker (this loop's and the WAL relay's). */
    public static final Backoff RETRY = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));

    /** What the worker does. Every method runs on the loop's thread. */
    public interface Work {
        /** Resolves what the worker needs and returns its lease; called again, after a pause, until it succeeds. */
        Lease bind() throws SQLException;

        /**
         * The lease was acquired or renewed on {@code c} (autocommit); {@code newEpoch} on the first
         * acquisition and on every takeover, when the worker must reload what another holder changed.
         */
        void held(Connection c, long epoch, boolean newEpoch) throws SQLException;

        /** Another owner holds the lease now; this worker had it until then. */
        void lost();

        /** One round of work while the lease is held; waits through {@link #pause} or its own stop-aware wait. */
        void round() throws SQLException, InterruptedException;

        /** A bind, renewal or round failed: the failure as it is logged (and kept, e.g. for health). */
        EventsyncException failed(Exception e);

        /** The loop stops, the lease is still held: last writes (e.g. store offsets). */
        void stopping();

        /** The lease was released: close what {@link #bind} opened. */
        void closed();
    }

    private final String what;
    private final DataSource dataSource;
    private final Duration leaseDuration;
    private final Work work;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running;
    private volatile boolean holding;
    private volatile long epoch;
    private Lease lease;
    private long lastRenewNanos;

    /**
     * @param threadName the worker's thread, e.g. {@code eventsync-relay-orders}
     * @param what       the worker in log lines, e.g. {@code relay of outbox orders}
     */
    public LeasedLoop(String threadName, String what, DataSource dataSource, Duration leaseDuration, Work work) {
        this.what = what;
        this.dataSource = dataSource;
        this.leaseDuration = leaseDuration;
        this.work = work;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    public LeasedLoop start() {
        running = true;
        thread.start();
        return this;
    }

    public boolean running() {
        return running;
    }

    /** True while this worker holds the lease (as of its last renewal or fenced write). */
    public boolean holding() {
        return holding;
    }

    /** The epoch this worker last held; grows with every takeover. */
    public long epoch() {
        return epoch;
    }

    /** The lease, once bound; a worker fences its writes with {@code lease().fence(c, epoch())}. */
    public Lease lease() {
        return lease;
    }

    /** A fenced write found another holder: stop working until the lease is acquired again. */
    public void lostLease() {
        holding = false;
    }

    /** Waits up to {@code millis}, or until the loop is closed. */
    public void pause(long millis) throws InterruptedException {
        stopped.await(millis, TimeUnit.MILLISECONDS);
    }

    /**
     * Stops after the round in flight: waits up to {@code grace} for it, then interrupts the thread
     * and waits up to the lease duration more. Idempotent.
     */
    public void close(Duration grace) {
        if (!running) {
            return;
        }
        running = false;
        stopped.countDown();
        try {
            thread.join(grace.toMillis());
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(leaseDuration.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        Backoff.Sequence retry = RETRY.sequence();
        try {
            while (running) {
                try {
                    if (lease == null) {
                        lease = work.bind();
                    }
                    if (!holdLease()) {
                        pause(leaseDuration.toMillis() / 3);
                        continue;
                    }
                    work.round();
                    retry.reset();
                } catch (SQLException | EventsyncException e) {
                    EventsyncException failure = work.failed(e);
                    long wait = retry.next().toMillis();
                    log.error("{} failed, retrying in {} ms: {}", what, wait, failure.getMessage(),
                            log.isDebugEnabled() ? failure : null);
                    pause(wait);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            shutdown();
        }
    }

    private boolean holdLease() throws SQLException {
        long now = System.nanoTime();
        if (holding && now - lastRenewNanos < leaseDuration.toNanos() / 3) {
            return true;
        }
        try (Connection c = Jdbc.connect(dataSource, "the lease of the " + what)) {
            c.setAutoCommit(true);
            OptionalLong held = lease.tryAcquire(c);
            if (held.isEmpty()) {
                if (holding) {
                    holding = false;
                    work.lost();
                }
                return false;
            }
            boolean newEpoch = !holding || held.getAsLong() != epoch;
            work.held(c, held.getAsLong(), newEpoch); // first: if it fails, the next round calls it again
            epoch = held.getAsLong();
            holding = true;
            lastRenewNanos = now;
            return true;
        }
    }

    private void shutdown() {
        try {
            if (lease != null) {
                work.stopping();
            }
        } finally {
            if (holding && lease != null) {
                holding = false;
                try (Connection c = dataSource.getConnection()) {
                    c.setAutoCommit(true);
                    lease.release(c, epoch);
                } catch (SQLException | RuntimeException e) {
                    log.debug("{} could not release lease {}; it expires by itself: {}", what, lease.name(), e.getMessage());
                }
            }
            work.closed();
        }
    }
}
