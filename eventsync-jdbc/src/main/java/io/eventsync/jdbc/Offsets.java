package io.eventsync.jdbc;

import io.eventsync.EventsyncException;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Positions;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A consumer's own offsets (table {@code eventsync_offsets}) kept in the consumer's database, not the
 * log's: the position belongs to the copy it describes, and can be written in the copy's apply
 * transaction ({@link #store(Connection, String, String, String, long)}).
 *
 * <p>An offset is the next one to read. Stores only ever raise it: a late or stale writer (a consumer
 * that lost its group lease, an ack that arrives after a newer one) cannot move it back. Thread-safe.
 */
public final class Offsets {
    private static final List<String> KEYS = List.of("consumer_group", "topic", "log_partition");

    private final DataSource dataSource;
    private final SchemaNames names;
    private volatile Tables tables;

    private Offsets(DataSource dataSource, SchemaNames names) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.names = Objects.requireNonNull(names, "names");
    }

    /** Offsets in the consumer's database, current schema, prefix {@code eventsync_}. */
    public static Offsets in(DataSource consumerDb) {
        return in(consumerDb, SchemaNames.defaults());
    }

    public static Offsets in(DataSource consumerDb, SchemaNames names) {
        return new Offsets(consumerDb, names);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The next offset {@code group} reads from {@code topic}/{@code partition}; 0 when it never stored one. */
    public long load(String group, String topic, String partition) {
        try (Connection c = Jdbc.connect(dataSource, "loading the offset of group " + group)) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().selectOffset(t))) {
                ps.setString(1, group);
                ps.setString(2, topic);
                ps.setString(3, partition);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0L;
                }
            } catch (SQLException e) {
                throw Jdbc.failure(t, "loading the offset of group " + group + " on " + topic, t.offsets(), e);
            }
        } catch (SQLException e) {
            throw new EventsyncException("loading the offset of group " + group + " failed: " + e.getMessage(), e);
        }
    }

    /** Raises the stored offset in its own short transaction. */
    public void store(String group, String topic, String partition, long nextOffset) {
        try (Connection c = Jdbc.connect(dataSource, "storing the offset of group " + group)) {
            c.setAutoCommit(true);
            store(c, group, topic, partition, nextOffset);
        } catch (SQLException e) {
            throw new EventsyncException("storing the offset of group " + group + " failed: " + e.getMessage(), e);
        }
    }

    /** Raises the stored offset inside the caller's transaction (e.g. the apply transaction). */
    public void store(Connection c, String group, String topic, String partition, long nextOffset) {
        Tables t;
        try {
            t = tables(c);
        } catch (SQLException e) {
            throw new EventsyncException("cannot read the metadata of " + Jdbc.urlOf(c) + ": " + e.getMessage(), e);
        }
        Positions.raise(c, t, t.offsets(), KEYS, List.of(group, topic, partition), nextOffset);
    }

    private Tables tables(Connection c) throws SQLException {
        Tables t = tables;
        if (t == null) {
            t = Tables.resolve(c, names);
            tables = t;
        }
        return t;
    }
}
