package io.eventsync.verify.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The statements of one side of a diff, built once: every value normalized and the row hashed in SQL
 * ({@link VerifyDialect}), and key ranges {@code (lo, hi]} as index range scans on the key.
 *
 * <p>A range's bounds are bind parameters; a null bound is open. A row read into the JVM has the
 * <em>row columns</em>: the raw key, the normalized key and values (1 + n), the hash, the version (or
 * NULL) and the raw values (n).
 */
final class SideSql {

    private final ResolvedTable table;
    private final String key;
    private final String hash;
    private final String rowSelect;

    SideSql(ResolvedTable table, List<PairKind> pairs, VerifyDialect.Facts facts, VerifyDialect.RowHash rowHash) {
        this.table = table;
        VerifyDialect d = table.dialect();
        this.key = table.key().quoted();
        List<String> normalized = new ArrayList<>();
        List<String> encoded = new ArrayList<>();
        for (int i = 0; i < pairs.size(); i++) {
            ResolvedTable.Column column = i == 0 ? table.key() : table.columns().get(i - 1);
            String value = d.render(pairs.get(i), column.kind(), column.quoted(), facts);
            normalized.add(value);
            encoded.add(d.encode(value, pairs.get(i).lengthPrefixed(), column.nullable(), facts));
        }
        this.hash = d.hash(d.join(encoded), facts, rowHash);
        StringJoiner select = new StringJoiner(", ");
        select.add(key);
        normalized.forEach(select::add);
        select.add(hash);
        select.add(table.version() == null ? "NULL" : table.version().quoted());
        table.columns().forEach(c -> select.add(c.quoted()));
        this.rowSelect = "SELECT " + select + " FROM " + table.qualified();
    }

    int valueCount() {
        return table.columns().size();
    }

    /**
     * Params: segment size, [lo], limit. The next {@code limit} rows after lo, in key order, cut into
     * segments of {@code segment size} rows. Columns per segment, in order: segment, count, sum of
     * hashes, greatest key. The window numbers the limited rows only (MariaDB computes a window over
     * everything its WHERE selects, so the LIMIT comes first, in its own derived table).
     */
    String chunkAfter(boolean hasLo) {
        VerifyDialect d = table.dialect();
        return "SELECT es_seg, COUNT(*), SUM(es_h), " + d.maxKey("es_k", table.key().kind()) + " FROM (SELECT "
                + d.integerDivision("ROW_NUMBER() OVER (ORDER BY es_k) - 1", "?") + " AS es_seg, es_k, es_h FROM (SELECT "
                + key + " AS es_k, " + hash + " AS es_h FROM " + table.qualified() + where(hasLo, false)
                + " ORDER BY " + key + " LIMIT ?) es_limited) es_numbered GROUP BY es_seg ORDER BY es_seg";
    }

    /** Params: [lo], [hi]. Columns: count, sum of hashes. */
    String rangeSum(boolean hasLo, boolean hasHi) {
        return "SELECT COUNT(*), SUM(" + hash + ") FROM " + table.qualified() + where(hasLo, hasHi);
    }

    /** Params: [lo], [hi], step. Columns: every step-th key of the range, in order. */
    String boundaries(boolean hasLo, boolean hasHi) {
        return "SELECT es_k FROM (SELECT " + key + " AS es_k, ROW_NUMBER() OVER (ORDER BY " + key + ") AS es_rn FROM "
                + table.qualified() + where(hasLo, hasHi) + ") es_keys WHERE MOD(es_rn, ?) = 0 ORDER BY es_k";
    }

    /**
     * Params: [lo], [hi], then the {@code bounds} inner boundaries. Columns: segment (0..bounds), count,
     * sum of hashes; segment j holds the keys up to boundary j and above boundary j-1.
     */
    String groupedSums(boolean hasLo, boolean hasHi, int bounds) {
        StringBuilder segment = new StringBuilder("CASE");
        for (int j = 0; j < bounds; j++) {
            segment.append(" WHEN ").append(key).append(" <= ? THEN ").append(j);
        }
        segment.append(" ELSE ").append(bounds).append(" END");
        return "SELECT es_seg, COUNT(*), SUM(es_h) FROM (SELECT " + segment + " AS es_seg, " + hash + " AS es_h FROM "
                + table.qualified() + where(hasLo, hasHi) + ") es_segments GROUP BY es_seg";
    }

    /** Params: (lo, hi) per pair. Columns: how many keys lie in any of the ranges {@code (lo, hi]}. */
    String countInRanges(int pairs) {
        StringJoiner any = new StringJoiner(" OR ", "(", ")");
        for (int i = 0; i < pairs; i++) {
            any.add("(" + key + " > ? AND " + key + " <= ?)");
        }
        return "SELECT COUNT(*) FROM " + table.qualified() + " WHERE " + any
                + (table.where() == null ? "" : " AND (" + table.where() + ")");
    }

    /** Params: [lo], [hi]. Columns: the row columns. */
    String rows(boolean hasLo, boolean hasHi) {
        return rowSelect + where(hasLo, hasHi);
    }

    /** Params: the keys. Columns: the row columns. */
    String rowsOfKeys(int keys) {
        StringJoiner in = new StringJoiner(", ", key + " IN (", ")");
        for (int i = 0; i < keys; i++) {
            in.add("?");
        }
        return rowSelect + " WHERE " + in + (table.where() == null ? "" : " AND (" + table.where() + ")");
    }

    String estimateRows() {
        return table.dialect().estimateRowsSql();
    }

    private String where(boolean hasLo, boolean hasHi) {
        StringJoiner and = new StringJoiner(" AND ", " WHERE ", "").setEmptyValue("");
        if (hasLo) {
            and.add(key + " > ?");
        }
        if (hasHi) {
            and.add(key + " <= ?");
        }
        if (table.where() != null) {
            and.add("(" + table.where() + ")");
        }
        return and.toString();
    }
}
