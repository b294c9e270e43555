package io.eventsync.jdbc;

import io.eventsync.EventsyncException;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A copy's freshness per source (table {@code eventsync_freshness}) in the copy's database, beside its
 * inbox, so that other processes ({@code eventsync status}, a health check, a dashboard) can read what a
 * consumer measured from its heartbeats. Wire it as the dispatcher's listener:
 * {@code Dispatcher.builder(..).freshnessListener(FreshnessTable.in(copyDb)::record)}; the dispatcher
 * calls it at most once a second per source, off its lanes. Thread-safe.
 */
public final class FreshnessTable {
    private final DataSource dataSource;
    private final SchemaNames names;
    private volatile Tables tables;

    private FreshnessTable(DataSource dataSource, SchemaNames names) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.names = Objects.requireNonNull(names, "names");
    }

    /** The table in the copy's database, current schema, prefix {@code eventsync_}. */
    public static FreshnessTable in(DataSource copyDb) {
        return in(copyDb, SchemaNames.defaults());
    }

    public static FreshnessTable in(DataSource copyDb, SchemaNames names) {
        return new FreshnessTable(copyDb, names);
    }

    /** One stored row: when the latest heartbeat applied was sent (source clock) and when it was applied. */
    public record Row(String subscription, String source, Instant sourceTime, Instant appliedAt) {}

    /** Inserts or overwrites the row of the copy and source, in its own short transaction. */
    public void record(CopyFreshness freshness) {
        try (Connection c = Jdbc.connect(dataSource, "recording the freshness of " + freshness.subscription())) {
            c.setAutoCommit(true);
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().upsertFreshness(t))) {
                ps.setString(1, freshness.subscription());
                ps.setString(2, freshness.source());
                t.dialect().setInstant(ps, 3, freshness.sourceTime());
                t.dialect().setInstant(ps, 4, freshness.lastApplied());
                ps.executeUpdate();
            } catch (SQLException e) {
                throw Jdbc.failure(t, "recording the freshness of " + freshness.subscription() + " for source "
                        + freshness.source(), t.table("freshness"), e);
            }
        } catch (SQLException e) {
            throw new EventsyncException("recording the freshness of " + freshness.subscription() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** The rows of {@code subscription}, by source; empty when no heartbeat was recorded yet. */
    public List<Row> read(String subscription) {
        try (Connection c = Jdbc.connect(dataSource, "reading the freshness of " + subscription)) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().selectFreshness(t))) {
                ps.setString(1, subscription);
                List<Row> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Row(subscription, rs.getString(1), t.dialect().instant(rs, 2),
                                t.dialect().instant(rs, 3)));
                    }
                }
                return rows;
            } catch (SQLException e) {
                throw Jdbc.failure(t, "reading the freshness of " + subscription, t.table("freshness"), e);
            }
        } catch (SQLException e) {
            throw new EventsyncException("reading the freshness of " + subscription + " failed: " + e.getMessage(), e);
        }
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
