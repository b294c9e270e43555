package io.eventsync.verify.internal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One side of a diff: its connection and statements. Used by one thread at a time; counts the rows
 * it reads into the JVM ({@link #rowsFetched}), which is what keeps memory flat.
 */
final class Side {
    final String label;
    final ResolvedTable table;
    private final Connection connection;
    private final SideSql sql;
    private final AtomicLong rowsFetched = new AtomicLong();

    Side(String label, Connection connection, ResolvedTable table, SideSql sql) {
        this.label = label;
        this.connection = connection;
        this.table = table;
        this.sql = sql;
    }

    Connection connection() {
        return connection;
    }

    long rowsFetched() {
        return rowsFetched.get();
    }

    /**
     * The next {@code limit} rows after {@code lo} (null: from the first), in segments of
     * {@code segmentRows}: each segment's sum and last key.
     */
    Chunk chunkAfter(Object lo, int limit, int segmentRows) throws SQLException {
        List<Sum> sums = new ArrayList<>();
        List<Object> lastKeys = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(sql.chunkAfter(lo != null))) {
            int i = 1;
            ps.setInt(i++, segmentRows);
            if (lo != null) {
                bindKey(ps, i++, lo);
            }
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sums.add(new Sum(rs.getLong(2), sum(rs.getBigDecimal(3))));
                    lastKeys.add(rs.getObject(4));
                }
            }
        }
        return new Chunk(sums, lastKeys);
    }

    /** A chunk of the source: its segments' sums and last keys, in key order. */
    record Chunk(List<Sum> segments, List<Object> lastKeys) {
        long count() {
            return segments.stream().mapToLong(Sum::count).sum();
        }

        /** The chunk's last key, or null when it is empty. */
        Object last() {
            return lastKeys.isEmpty() ? null : lastKeys.get(lastKeys.size() - 1);
        }

        /** Where the segments are cut: every segment's last key but the last one's. */
        List<Object> cuts() {
            return lastKeys.isEmpty() ? List.of() : lastKeys.subList(0, lastKeys.size() - 1);
        }
    }

    Sum sum(Range r) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql.rangeSum(r.lo() != null, r.hi() != null))) {
            bindRange(ps, r);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new Sum(rs.getLong(1), sum(rs.getBigDecimal(2)));
            }
        }
    }

    /** Every {@code step}-th key of the range, in this side's order. */
    List<Object> boundaries(Range r, long step) throws SQLException {
        List<Object> keys = new ArrayList<>();
        try (PreparedStatement ps = connection.prepareStatement(sql.boundaries(r.lo() != null, r.hi() != null))) {
            int i = bindRange(ps, r);
            ps.setLong(i, step);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getObject(1));
                }
            }
        }
        rowsFetched.addAndGet(keys.size());
        return keys;
    }

    /** The sums of the segments of {@code r} cut at {@code bounds} (bounds.size() + 1 segments). */
    Sum[] segmentSums(Range r, List<Object> bounds) throws SQLException {
        if (bounds.isEmpty()) {
            return new Sum[] {sum(r)};
        }
        Sum[] sums = new Sum[bounds.size() + 1];
        Arrays.fill(sums, Sum.EMPTY);
        try (PreparedStatement ps = connection.prepareStatement(sql.groupedSums(r.lo() != null, r.hi() != null,
                bounds.size()))) {
            int i = 1;
            // The CASE comes first in the statement, the range after it.
            for (Object b : bounds) {
                bindKey(ps, i++, b);
            }
            bindRange(ps, r, i);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sums[rs.getInt(1)] = new Sum(rs.getLong(2), sum(rs.getBigDecimal(3)));
                }
            }
        }
        return sums;
    }

    /** How many keys lie in any of the ranges (lo, hi] given as consecutive pairs. */
    long countInRanges(List<Object> pairs) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql.countInRanges(pairs.size() / 2))) {
            int i = 1;
            for (Object bound : pairs) {
                bindKey(ps, i++, bound);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    List<Row> rows(Range r) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(sql.rows(r.lo() != null, r.hi() != null))) {
            bindRange(ps, r);
            return read(ps);
        }
    }

    /** The rows of these keys (raw values of either side), as they are now. */
    List<Row> rowsOfKeys(List<Object> keys) throws SQLException {
        if (keys.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement ps = connection.prepareStatement(sql.rowsOfKeys(keys.size()))) {
            int i = 1;
            for (Object k : keys) {
                bindKey(ps, i++, k);
            }
            return read(ps);
        }
    }

    /** The database's estimate of the table's rows (for progress), or -1. */
    long estimatedRows() {
        try (PreparedStatement ps = connection.prepareStatement(sql.estimateRows())) {
            ps.setString(1, table.catalogName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Math.max(-1, rs.getLong(1)) : -1;
            }
        } catch (SQLException e) {
            return -1; // only a progress display uses it
        }
    }

    private List<Row> read(PreparedStatement ps) throws SQLException {
        int n = sql.valueCount();
        List<Row> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<String> values = new ArrayList<>(n);
                for (int c = 0; c < n; c++) {
                    values.add(rs.getString(3 + c));
                }
                long hash = rs.getLong(3 + n);
                long version = rs.getLong(4 + n);
                Long v = rs.wasNull() ? null : version;
                List<Object> raw = new ArrayList<>(n);
                for (int c = 0; c < n; c++) {
                    raw.add(rs.getObject(5 + n + c));
                }
                rows.add(new Row(rs.getObject(1), rs.getString(2), values, hash, v, raw));
            }
        }
        rowsFetched.addAndGet(rows.size());
        return rows;
    }

    private int bindRange(PreparedStatement ps, Range r) throws SQLException {
        return bindRange(ps, r, 1);
    }

    private int bindRange(PreparedStatement ps, Range r, int first) throws SQLException {
        int i = first;
        if (r.lo() != null) {
            bindKey(ps, i++, r.lo());
        }
        if (r.hi() != null) {
            bindKey(ps, i++, r.hi());
        }
        return i;
    }

    /** Binds a key read from either side as this side's key type expects it. */
    void bindKey(PreparedStatement ps, int index, Object key) throws SQLException {
        ps.setObject(index, KeyValues.forColumn(table.dialect(), table.key().kind(), key));
    }

    private static BigInteger sum(BigDecimal value) {
        return value == null ? BigInteger.ZERO : value.toBigInteger();
    }
}
