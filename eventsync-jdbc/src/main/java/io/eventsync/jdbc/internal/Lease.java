package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * A fenced lease in the lease table: whoever holds it is the only relay of an outbox (or the only
 * reader of a log group). The database clock decides expiry, so hosts need not agree on time.
 *
 * <p>Safety does not rest on time. Every takeover increments the epoch, and every write a holder makes
 * runs {@link #fence} in the same transaction: it locks the lease row and checks owner and epoch. A
 * takeover's UPDATE must wait for that lock, so either the holder's write commits before the epoch
 * changes, or the check sees the new epoch and the write is rolled back. A paused, stale holder can
 * therefore never write after losing the lease.
 */
public final class Lease {
    private final Tables tables;
    private final String name;
    private final String owner;
    private final long durationMillis;

    public Lease(Tables tables, String name, String owner, Duration duration) {
        this.tables = tables;
        this.name = name;
        this.owner = owner;
        this.durationMillis = duration.toMillis();
    }

    public String name() {
        return name;
    }

    public String owner() {
        return owner;
    }

    /**
     * Acquires or renews the lease (autocommit statements on {@code c}).
     *
     * @return the epoch when this owner holds the lease, empty when another live owner does
     */
    public OptionalLong tryAcquire(Connection c) throws SQLException {
        Dialect d = tables.dialect();
        try (PreparedStatement ps = c.prepareStatement(d.acquireLease(tables))) {
            ps.setString(1, owner);
            ps.setString(2, owner);
            ps.setLong(3, durationMillis);
            ps.setString(4, name);
            ps.setString(5, owner);
            ps.executeUpdate();
        }
        Holder holder = read(c, d.selectLease(tables));
        if (holder == null) {
            try (PreparedStatement ps = c.prepareStatement(d.insertLease(tables))) {
                ps.setString(1, name);
                ps.setString(2, owner);
                ps.setLong(3, durationMillis);
                ps.executeUpdate();
            } catch (SQLException e) {
                if (!d.isDuplicateKey(e)) {
                    throw e;
                }
                // someone else created it at the same moment: they hold it
            }
            holder = read(c, d.selectLease(tables));
        }
        return holder != null && holder.owner.equals(owner) ? OptionalLong.of(holder.epoch) : OptionalLong.empty();
    }

    /**
     * Inside the caller's transaction (autocommit off): locks the lease row until that transaction
     * ends and returns whether this owner still holds {@code epoch}. Write only when it returns true.
     */
    public boolean fence(Connection c, long epoch) throws SQLException {
        Holder holder = read(c, tables.dialect().lockLease(tables));
        return holder != null && holder.owner.equals(owner) && holder.epoch == epoch;
    }

    /**
     * Extends the lease only if this owner still holds {@code epoch} (autocommit); never takes it over,
     * not even an expired one. Returns whether it did.
     */
    public boolean renew(Connection c, long epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(tables.dialect().releaseLease(tables))) {
            ps.setLong(1, durationMillis); // the release statement, with the lease's duration instead of "now"
            ps.setString(2, name);
            ps.setString(3, owner);
            ps.setLong(4, epoch);
            return ps.executeUpdate() == 1;
        }
    }

    /** Lets the lease expire at once, so a successor need not wait (autocommit). */
    public void release(Connection c, long epoch) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(tables.dialect().releaseLease(tables))) {
            ps.setLong(1, -1000);
            ps.setString(2, name);
            ps.setString(3, owner);
            ps.setLong(4, epoch);
            ps.executeUpdate();
        }
    }

    private Holder read(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Holder(rs.getString(1), rs.getLong(2)) : null;
            }
        }
    }

    private record Holder(String owner, long epoch) {}
}
