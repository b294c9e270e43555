package io.eventsync.jdbc;

import io.eventsync.EventsyncException;
import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.PartitionFreshness;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A copy's freshness per source and partition (table {@code eventsync_freshness_partition}) in the copy's
 * database, beside its inbox, so that other processes ({@code eventsync status}, a health check, a
 * dashboard) can read what the consumers measured from their heartbeats. Wire it as the dispatcher's
 * listener: {@code Dispatcher.builder(..).freshnessListener(FreshnessTable.in(copyDb)::record)}; the
 * dispatcher calls it at most once a second per source, off its lanes. Thread-safe.
 *
 * <p>One row per partition, not per copy: two instances of one subscription own different partitions and
 * each writes its own, so the copy's freshness per source, the oldest over the rows, shows a stale
 * instance even while another is fresh. Partition names are the transport's, the same on every instance,
 * so the instance a rebalance hands a partition to overwrites the row the previous owner left.
 *
 * <p>Installs from before schema V2 have only {@code eventsync_freshness} (one row per subscription and
 * source); {@link #read} still reports a source found only there, so a reader upgraded before its
 * consumers keeps working.
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

    /**
     * A copy's freshness for one source, the worst over its partitions.
     *
     * @param sourceTime the oldest source time over the partitions (for a partition awaiting its first
     *                   heartbeat, when its consumer first saw it)
     * @param appliedAt  the latest heartbeat applied over the partitions; null when none was yet
     * @param partitions the rows it is made of; empty for a row of the table before schema V2
     */
    public record Row(String subscription, String source, Instant sourceTime, Instant appliedAt,
                      List<PartitionRow> partitions) {
        public Row {
            partitions = List.copyOf(partitions);
        }

        /** Events not yet acknowledged, summed over the partitions that know it; null when none does. */
        public Long lag() {
            Long sum = null;
            for (PartitionRow p : partitions) {
                if (p.lag() != null) {
                    sum = (sum == null ? 0 : sum) + p.lag();
                }
            }
            return sum;
        }
    }

    /**
     * One stored partition row: its latest heartbeat's source time and when it was applied (null, and the
     * source time is when the partition was first seen, while it awaits its first heartbeat), its lag in
     * events (null: unknown) and when its consumer wrote the row.
     */
    public record PartitionRow(String source, String partition, Instant sourceTime, Instant appliedAt, Long lag,
                               Instant recordedAt) {}

    /** Inserts or overwrites the rows of the copy's partitions for this source, in one short transaction. */
    public void record(CopyFreshness freshness) {
        String what = "recording the freshness of " + freshness.subscription() + " for source " + freshness.source();
        try (Connection c = Jdbc.connect(dataSource, what)) {
            Tables t = tables(c);
            c.setAutoCommit(false);
            Instant now = Instant.now();
            try (PreparedStatement ps = c.prepareStatement(t.dialect().upsertPartitionFreshness(t))) {
                for (PartitionFreshness p : freshness.byPartition()) {
                    ps.setString(1, freshness.subscription());
                    ps.setString(2, freshness.source());
                    ps.setString(3, p.partition());
                    t.dialect().setInstant(ps, 4, p.sourceTime());
                    t.dialect().setInstant(ps, 5, p.lastApplied());
                    if (p.lag() == null) {
                        ps.setNull(6, Types.BIGINT);
                    } else {
                        ps.setLong(6, p.lag());
                    }
                    t.dialect().setInstant(ps, 7, now);
                    ps.addBatch();
                }
                ps.executeBatch();
                c.commit();
            } catch (SQLException e) {
                Jdbc.rollbackQuietly(c, e);
                throw Jdbc.failure(t, what, t.table("freshness_partition"), e);
            }
        } catch (SQLException e) {
            throw new EventsyncException(what + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Per source of {@code subscription} (by source name), the worst over its partitions, with the
     * partitions; empty when no heartbeat was recorded yet. Works on a schema from before V2 too.
     */
    public List<Row> read(String subscription) {
        Map<String, List<PartitionRow>> bySource = new LinkedHashMap<>();
        for (PartitionRow p : partitionRows(subscription, true)) {
            bySource.computeIfAbsent(p.source(), s -> new ArrayList<>()).add(p);
        }
        List<Row> rows = new ArrayList<>();
        bySource.forEach((source, partitions) -> rows.add(worst(subscription, source, partitions)));
        for (Row old : readBeforeV2(subscription)) {
            if (!bySource.containsKey(old.source())) {
                rows.add(old);
            }
        }
        rows.sort(java.util.Comparator.comparing(Row::source));
        return rows;
    }

    /** Every partition row of {@code subscription}, by source and partition. */
    public List<PartitionRow> readPartitions(String subscription) {
        return partitionRows(subscription, false);
    }

    /** With {@code beforeV2}, a database without the V2 table has no rows (a reader upgraded before the schema). */
    private List<PartitionRow> partitionRows(String subscription, boolean beforeV2) {
        String what = "reading the freshness of " + subscription;
        try (Connection c = Jdbc.connect(dataSource, what)) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().selectPartitionFreshness(t))) {
                ps.setString(1, subscription);
                List<PartitionRow> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long lag = rs.getLong(5);
                        rows.add(new PartitionRow(rs.getString(1), rs.getString(2), t.dialect().instant(rs, 3),
                                t.dialect().instant(rs, 4), rs.wasNull() ? null : lag, t.dialect().instant(rs, 6)));
                    }
                }
                return rows;
            } catch (SQLException e) {
                if (beforeV2 && t.dialect().isMissingTable(e)) {
                    return List.of();
                }
                throw Jdbc.failure(t, what, t.table("freshness_partition"), e);
            }
        } catch (SQLException e) {
            throw new EventsyncException(what + " failed: " + e.getMessage(), e);
        }
    }

    private static Row worst(String subscription, String source, List<PartitionRow> partitions) {
        Instant oldest = null;
        Instant applied = null;
        for (PartitionRow p : partitions) {
            if (oldest == null || p.sourceTime().isBefore(oldest)) {
                oldest = p.sourceTime();
            }
            if (p.appliedAt() != null && (applied == null || p.appliedAt().isAfter(applied))) {
                applied = p.appliedAt();
            }
        }
        return new Row(subscription, source, oldest, applied, partitions);
    }

    /** The rows consumers from before schema V2 wrote; none when that table is not there. */
    private List<Row> readBeforeV2(String subscription) {
        try (Connection c = Jdbc.connect(dataSource, "reading the freshness of " + subscription)) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().selectFreshness(t))) {
                ps.setString(1, subscription);
                List<Row> rows = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Row(subscription, rs.getString(1), t.dialect().instant(rs, 2),
                                t.dialect().instant(rs, 3), List.of()));
                    }
                }
                return rows;
            } catch (SQLException e) {
                if (t.dialect().isMissingTable(e)) {
                    return List.of();
                }
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
