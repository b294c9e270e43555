package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's hold on a {@link Lease}: acquires it, renews it every third of its duration, remembers
 * the epoch, and fences writes with it. Owned by one worker thread; {@link #isLeader()} and
 * {@link #epoch()} may be read from any thread.
 */
public final class HeldLease {
    private static final Logger log = LoggerFactory.getLogger(HeldLease.class);

    private final DataSource dataSource;
    private final Lease lease;
    private final Tables tables;
    private final long durationNanos;
    private final String what;
    private volatile boolean leader;
    private volatile long epoch;
    private long renewedNanos;

    /** @param what the worker, for logs: {@code WAL relay of slot orders} */
    public HeldLease(DataSource dataSource, Tables tables, String name, String owner, Duration duration, String what) {
        this.dataSource = dataSource;
        this.tables = tables;
        this.lease = new Lease(tables, name, owner, duration);
        this.durationNanos = duration.toNanos();
        this.what = what;
    }

    /** True when the lease row exists, held or not: the worker ran here before. */
    public boolean everHeld() throws SQLException {
        try (Connection c = Jdbc.connect(dataSource, "the lease of " + what);
             PreparedStatement ps = c.prepareStatement(tables.dialect().selectLease(tables))) {
            ps.setString(1, lease.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Acquires or renews the lease when a third of it has passed; true while this worker holds it. */
    public boolean hold() throws SQLException {
        return hold(false);
    }

    /**
     * Like {@link #hold()}; with {@code now} it asks the database even when the last renewal is recent,
     * e.g. before taking a resource over from whoever else may be using it.
     */
    public boolean hold(boolean now) throws SQLException {
        return now ? renew() : hold0();
    }

    private boolean hold0() throws SQLException {
        if (leader && System.nanoTime() - renewedNanos < durationNanos / 3) {
            return true;
        }
        return renew();
    }

    private boolean renew() throws SQLException {
        long now = System.nanoTime();
        try (Connection c = Jdbc.connect(dataSource, "the lease of " + what)) {
            c.setAutoCommit(true);
            OptionalLong held = lease.tryAcquire(c);
            if (held.isPresent()) {
                if (!leader || epoch != held.getAsLong()) {
                    log.info("{} {} is the leader (lease {}, epoch {})", what, lease.owner(), lease.name(), held.getAsLong());
                }
                epoch = held.getAsLong();
                leader = true;
                renewedNanos = now;
                return true;
            }
        } catch (SQLException | RuntimeException e) {
            // Unknown whether we still hold it: act as if not until a renewal succeeds.
            if (leader && now - renewedNanos >= durationNanos) {
                log.warn("{} {} could not renew its lease {} in time (epoch {})", what, lease.owner(), lease.name(), epoch);
                leader = false;
            }
            throw e;
        }
        if (leader) {
            log.warn("{} {} lost its lease {} (epoch {})", what, lease.owner(), lease.name(), epoch);
        }
        leader = false;
        return false;
    }

    /**
     * True while this worker holds the lease and renewed it less than one lease duration ago, by its
     * own clock: the window in which no successor can have taken over.
     */
    public boolean isFresh() {
        return leader && System.nanoTime() - renewedNanos < durationNanos;
    }

    /** Inside the caller's transaction: locks the lease row and checks this worker still holds its epoch. */
    public boolean fence(Connection c) throws SQLException {
        return leader && lease.fence(c, epoch);
    }

    public boolean isLeader() {
        return leader;
    }

    public long epoch() {
        return epoch;
    }

    public String owner() {
        return lease.owner();
    }

    public String name() {
        return lease.name();
    }

    /** Gives the lease up at once so a standby need not wait for it to expire. */
    public void release() {
        if (!leader) {
            return;
        }
        leader = false;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            lease.release(c, epoch);
        } catch (SQLException | RuntimeException e) {
            log.debug("{} {} could not release its lease; it expires by itself: {}", what, lease.owner(), e.getMessage());
        }
    }
}
