package io.eventsync.verify;

import io.eventsync.ConfigException;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The part of a table that takes part in a comparison: the table, its key column, the compared
 * columns, in the order in which they pair up with the other side's columns, and optionally a filter.
 *
 * <p>Names go into SQL, so they are restricted to plain identifiers ({@code schema.table} allowed).
 * They match the database's names without regard to case ({@code billing_orders} finds a table created
 * as {@code "billing_orders"} or as {@code BILLING_ORDERS}), and are quoted in the exact case found.
 *
 * @param table     the table, optionally schema-qualified
 * @param keyColumn the column whose value identifies a row on both sides (unique on each side)
 * @param columns   the compared columns (the key excluded); the i-th pairs with the other side's i-th
 * @param where     an SQL condition restricting the compared rows, or null for all; it is put into the
 *                  statements as written (it comes from the operator, like the SQL of a console), and
 *                  it must select the same keys on both sides, or the rows it leaves out on one side
 *                  count as missing on the other
 */
public record TableProjection(String table, String keyColumn, List<String> columns, String where) {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern TABLE = Pattern.compile(IDENTIFIER.pattern() + "(\\." + IDENTIFIER.pattern() + ")?");

    public TableProjection {
        Objects.requireNonNull(columns, "columns");
        columns = List.copyOf(columns);
        if (table == null || !TABLE.matcher(table).matches()) {
            throw new ConfigException("table must be an identifier or schema.identifier, but was: " + table);
        }
        requireIdentifier("keyColumn", keyColumn);
        for (String column : columns) {
            requireIdentifier("columns", column);
        }
        if (where != null && (where.isBlank() || where.indexOf(';') >= 0)) {
            throw new ConfigException("where must be one SQL condition (not blank, no ';'), but was: " + where);
        }
    }

    /** All rows of the table. */
    public TableProjection(String table, String keyColumn, List<String> columns) {
        this(table, keyColumn, columns, null);
    }

    public static TableProjection of(String table, String keyColumn, String... columns) {
        return new TableProjection(table, keyColumn, List.of(columns));
    }

    /** This projection restricted to the rows matching {@code condition} (SQL, as in a WHERE clause). */
    public TableProjection where(String condition) {
        return new TableProjection(table, keyColumn, columns, condition);
    }

    /** The table's schema, or null when it is not qualified. */
    public String schema() {
        int dot = table.indexOf('.');
        return dot < 0 ? null : table.substring(0, dot);
    }

    /** The table's name without its schema. */
    public String tableName() {
        int dot = table.indexOf('.');
        return dot < 0 ? table : table.substring(dot + 1);
    }

    static void requireIdentifier(String field, String value) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new ConfigException(field + " must be a plain SQL identifier (letters, digits, '_'), but was: " + value);
        }
    }
}
