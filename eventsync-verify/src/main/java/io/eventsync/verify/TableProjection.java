package io.eventsync.verify;

import io.eventsync.ConfigException;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The part of a table that takes part in a comparison: the table, its key column and the compared
 * columns, in the order in which they pair up with the other side's columns.
 *
 * <p>Names go into SQL, so they are restricted to plain identifiers ({@code schema.table} allowed)
 * and used unquoted, which keeps each database's own case folding.
 *
 * @param table     the table, optionally schema-qualified
 * @param keyColumn the column whose value identifies a row on both sides
 * @param columns   the compared columns (the key excluded); the i-th pairs with the other side's i-th
 */
public record TableProjection(String table, String keyColumn, List<String> columns) {
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
    }

    public static TableProjection of(String table, String keyColumn, String... columns) {
        return new TableProjection(table, keyColumn, List.of(columns));
    }

    String selectSql() {
        StringBuilder sql = new StringBuilder("SELECT ").append(keyColumn);
        for (String column : columns) {
            sql.append(", ").append(column);
        }
        return sql.append(" FROM ").append(table).toString();
    }

    private static void requireIdentifier(String field, String value) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new ConfigException(field + " must be a plain SQL identifier (letters, digits, '_'), but was: " + value);
        }
    }
}
