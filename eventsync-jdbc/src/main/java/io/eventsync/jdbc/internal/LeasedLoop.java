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
 *
 * <p><b>A round may block longer than the lease.</b> A log reader waits in its handler while the
 * dispatcher is full (backpressure); a relay waits for a slow broker. The worker thread renews between
 * rounds, and a keeper thread renews for it whenever a round has run past a third of the lease, so a
 * live but busy worker keeps its lease (like Kafka's heartbeat thread beside {@code poll}). The keeper
 * only renews the epoch the worker holds: taking the lease over, reloading after a takeover and
 * reporting a loss stay on the worker thread. If the keeper finds the lease gone (the database was
 * unreachable for longer than the lease, or the lease was taken), it marks it lost at once, so the
 * worker stops before its next delivery and its fenced writes fail.
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
    private final Thread keeper;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Serializes renewals of the worker and the keeper. */
    private final Object renewal = new Object();
    private volatile boolean running;
    private volatile boolean holding;
    private volatile long epoch;
    private volatile Lease lease;
    /** When the lease was last acquired or renewed (System.nanoTime), by either thread. */
    private volatile long lastRenewNanos;
    /** Whether the worker told its work it holds the lease (worker thread only). */
    private boolean announced;

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
        this.keeper = new Thread(this::keep, threadName + "-lease");
        this.keeper.setDaemon(true);
    }

    public LeasedLoop start() {
        running = true;
        thread.start();
        keeper.start();
        return this;
    }

    public boolean running() {
        return running;
    }

    /**
     * True while this worker holds the lease: as of its last renewal or fenced write, and no longer than
     * the lease lasts past the last successful renewal (cut off from the database, a worker must assume
     * another owner took over once the lease could have expired).
     */
    public boolean holding() {
        return holding && System.nanoTime() - lastRenewNanos < leaseDuration.toNanos();
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
            keeper.join(grace.toMillis());
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
        synchronized (renewal) {
            try (Connection c = Jdbc.connect(dataSource, "the lease of the " + what)) {
                c.setAutoCommit(true);
                OptionalLong held = lease.tryAcquire(c);
                if (held.isEmpty()) {
                    holding = false;
                    if (announced) {
                        announced = false;
                        work.lost();
                    }
                    return false;
                }
                boolean newEpoch = !holding || !announced || held.getAsLong() != epoch;
                work.held(c, held.getAsLong(), newEpoch); // first: if it fails, the next round calls it again
                epoch = held.getAsLong();
                holding = true;
                announced = true;
                lastRenewNanos = now;
                return true;
            }
        }
    }

    /**
     * The keeper thread: renews the held epoch while a round runs past a third of the lease. It never
     * acquires a lease the worker does not hold, and a renewal that finds another epoch or owner only
     * marks the lease lost; the worker thread reacts (reports the loss, or reloads on a new epoch).
     */
    private void keep() {
        long third = Math.max(1, leaseDuration.toMillis() / 3);
        try {
            while (running) {
                pause(Math.max(1, third / 2));
                if (!running || !holding || System.nanoTime() - lastRenewNanos < TimeUnit.MILLISECONDS.toNanos(third)) {
                    continue;
                }
                renewForWorker();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void renewForWorker() {
        synchronized (renewal) {
            long now = System.nanoTime();
            long held = epoch;
            if (!holding || now - lastRenewNanos < leaseDuration.toNanos() / 3) {
                return; // the worker renewed meanwhile, or lost it
            }
            if (!running) {
                return; // closing: shutdown() releases the lease, a renewal now would only delay a successor
            }
            try (Connection c = Jdbc.connect(dataSource, "the lease of the " + what)) {
                c.setAutoCommit(true);
                if (lease.renew(c, held)) { // renew only: the keeper never takes a lease the worker lost
                    lastRenewNanos = now;
                    log.debug("{} renewed its lease {} while a round runs", what, lease.name());
                } else {
                    holding = false; // taken over: the worker sorts it out
                    log.warn("{} found its lease {} (epoch {}) gone while a round ran; it stops before its next"
                            + " delivery", what, lease.name(), held);
                }
            } catch (SQLException | RuntimeException e) {
                // Not fatal by itself: the lease lasts two more thirds, and the next try may succeed. Once it
                // has expired, another owner may take it, and the fence refuses this worker's writes.
                log.warn("{} could not renew its lease {} while a round runs: {}", what, lease.name(), e.getMessage());
            }
        }
    }

    private void shutdown() {
        try {
            if (lease != null) {
                work.stopping();
            }
        } finally {
            synchronized (renewal) { // not while the keeper renews: its renewal would outlive the release
                if (holding && lease != null) {
                    holding = false;
                    try (Connection c = dataSource.getConnection()) {
                        c.setAutoCommit(true);
                        lease.release(c, epoch);
                    } catch (SQLException | RuntimeException e) {
                        log.debug("{} could not release lease {}; it expires by itself: {}", what, lease.name(),
                                e.getMessage());
                    }
                }
            }
            work.closed();
        }
    }
}
