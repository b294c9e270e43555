package io.eventsync.verify;

import io.eventsync.ConfigException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares a source table's projection to a copy table, keyed, row for row: every source key must be
 * in the copy with equal values in the paired columns, and the copy must hold no other key.
 *
 * <p>Values are compared by their text form after normalizing numbers (so {@code 5}, {@code 5.0} and
 * a {@code BIGINT} 5 are equal across databases), which lets the two sides live on different
 * databases. The copy side is read into memory (one entry per row), the source side streams.
 */
public final class TableDiff {
    private final int maxReported;

    private TableDiff(int maxReported) {
        this.maxReported = maxReported;
    }

    /** A diff that reports at most {@code maxReported} differing keys (it still counts all of them). */
    public static TableDiff reportingAtMost(int maxReported) {
        if (maxReported < 0) {
            throw new ConfigException("maxReported must be >= 0, but was " + maxReported);
        }
        return new TableDiff(maxReported);
    }

    /**
     * Compares {@code sourceSide} (read through {@code source}) with {@code copySide} (through
     * {@code copy}). Both projections must have the same number of columns.
     */
    public DiffReport compare(String name, Connection source, TableProjection sourceSide,
                              Connection copy, TableProjection copySide) throws SQLException {
        if (sourceSide.columns().size() != copySide.columns().size()) {
            throw new ConfigException("source projection " + sourceSide.columns() + " and copy projection "
                    + copySide.columns() + " must have the same number of columns");
        }
        Map<String, String[]> copyRows = readAll(copy, copySide);
        long copyCount = copyRows.size();
        long sourceCount = 0;
        long differing = 0;
        List<KeyDifference> reported = new ArrayList<>();
        try (Statement st = source.createStatement(); ResultSet rs = st.executeQuery(sourceSide.selectSql(source))) {
            while (rs.next()) {
                sourceCount++;
                String key = text(rs.getObject(1));
                String[] sourceValues = values(rs, sourceSide.columns().size());
                String[] copyValues = copyRows.remove(key);
                if (copyValues == null) {
                    differing++;
                    report(reported, new KeyDifference(key, KeyDifference.Kind.MISSING_IN_COPY,
                            named(sourceSide, sourceValues), Map.of()));
                } else if (!Arrays.equals(sourceValues, copyValues)) {
                    differing++;
                    report(reported, new KeyDifference(key, KeyDifference.Kind.VALUES_DIFFER,
                            named(sourceSide, sourceValues), named(copySide, copyValues)));
                }
            }
        }
        for (Map.Entry<String, String[]> extra : copyRows.entrySet()) {
            differing++;
            report(reported, new KeyDifference(extra.getKey(), KeyDifference.Kind.EXTRA_IN_COPY,
                    Map.of(), named(copySide, extra.getValue())));
        }
        reported.sort(Comparator.comparing(KeyDifference::key));
        List<KeyDifference> firstOnes = reported.subList(0, Math.min(maxReported, reported.size()));
        return new DiffReport(name, sourceCount, copyCount, differing, firstOnes);
    }

    private void report(List<KeyDifference> reported, KeyDifference difference) {
        // Keeps a few more than the limit so the final sort by key still shows the lowest keys first
        // in the common case of few differences; beyond that, which keys are shown is arbitrary.
        if (reported.size() < Math.max(maxReported * 4, 16)) {
            reported.add(difference);
        }
    }

    private static Map<String, String[]> readAll(Connection connection, TableProjection side) throws SQLException {
        Map<String, String[]> rows = new HashMap<>();
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery(side.selectSql(connection))) {
            while (rs.next()) {
                rows.put(text(rs.getObject(1)), values(rs, side.columns().size()));
            }
        }
        return rows;
    }

    private static String[] values(ResultSet rs, int columns) throws SQLException {
        String[] values = new String[columns];
        for (int i = 0; i < columns; i++) {
            values[i] = text(rs.getObject(i + 2));
        }
        return values;
    }

    private static Map<String, String> named(TableProjection side, String[] values) {
        Map<String, String> named = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            named.put(side.columns().get(i), values[i]);
        }
        return named;
    }

    /** The comparable text of a column value; numbers lose representation differences. */
    static String text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal decimal) {
            return decimal.signum() == 0 ? "0" : decimal.stripTrailingZeros().toPlainString();
        }
        if (value instanceof Number number && !(value instanceof Double || value instanceof Float)) {
            return new BigDecimal(number.toString()).toPlainString();
        }
        if (value instanceof Number number) {
            double d = number.doubleValue();
            return d == Math.rint(d) && !Double.isInfinite(d)
                    ? BigDecimal.valueOf(d).stripTrailingZeros().toPlainString() : Double.toString(d);
        }
        if (value instanceof byte[] bytes) {
            return HexFormat.of().formatHex(bytes);
        }
        if (value instanceof Boolean b) {
            return b ? "true" : "false";
        }
        return value.toString();
    }
}
