package io.eventsync.verify;

import io.eventsync.ConfigException;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The part of a table that takes part in a comparison: the table, its key column and the compared
 * columns, in the order in which they pair up with the other side's columns.
 *
 * <p>Names go into SQL, so they are restricted to plain identifiers ({@code schema.table} allowed).
 * They match the database's names without regard to case ({@code billing_orders} finds a table created
 * as {@code "billing_orders"} or as {@code BILLING_ORDERS}), and are quoted in the exact case found.
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

    /** The SELECT of the key and the columns, with names resolved in {@code connection}'s catalog. */
    String selectSql(java.sql.Connection connection) throws java.sql.SQLException {
        java.sql.DatabaseMetaData meta = connection.getMetaData();
        String quote = meta.getIdentifierQuoteString().trim();
        int dot = table.indexOf('.');
        String schema = dot < 0 ? null : table.substring(0, dot);
        String name = dot < 0 ? table : table.substring(dot + 1);
        String[] found = findTable(meta, schema, name);
        java.util.Map<String, String> actualColumns = new java.util.HashMap<>();
        try (java.sql.ResultSet rs = meta.getColumns(found[0], found[1], found[2], null)) {
            while (rs.next()) {
                String column = rs.getString("COLUMN_NAME");
                actualColumns.putIfAbsent(column.toLowerCase(java.util.Locale.ROOT), column);
            }
        }
        StringBuilder sql = new StringBuilder("SELECT ").append(quoted(quote, column(actualColumns, keyColumn)));
        for (String column : columns) {
            sql.append(", ").append(quoted(quote, column(actualColumns, column)));
        }
        sql.append(" FROM ");
        if (found[1] != null && schema != null) {
            sql.append(quoted(quote, found[1])).append('.');
        } else if (found[0] != null && schema != null) {
            sql.append(quoted(quote, found[0])).append('.');
        }
        return sql.append(quoted(quote, found[2])).toString();
    }

    /** catalog, schema, name of the one table matching {@code schema.name} without regard to case. */
    private String[] findTable(java.sql.DatabaseMetaData meta, String schema, String name) throws java.sql.SQLException {
        String[] match = null;
        String current = meta.getConnection().getSchema();
        String currentCatalog = meta.getConnection().getCatalog();
        try (java.sql.ResultSet rs = meta.getTables(null, null, null, new String[] {"TABLE", "BASE TABLE"})) {
            while (rs.next()) {
                String catalog = rs.getString("TABLE_CAT");
                String tableSchema = rs.getString("TABLE_SCHEM");
                String tableName = rs.getString("TABLE_NAME");
                if (!tableName.equalsIgnoreCase(name)) {
                    continue;
                }
                String owner = tableSchema != null ? tableSchema : catalog;
                boolean inScope = schema != null ? schema.equalsIgnoreCase(owner)
                        : owner == null || owner.equalsIgnoreCase(current) || owner.equalsIgnoreCase(currentCatalog);
                if (inScope) {
                    if (match != null && !match[2].equals(tableName)) {
                        throw new ConfigException("table " + table + " is ambiguous: both " + match[2] + " and "
                                + tableName + " exist; they differ only in case");
                    }
                    match = new String[] {catalog, tableSchema, tableName};
                }
            }
        }
        if (match == null) {
            throw new ConfigException("table " + table + " does not exist" + (schema == null
                    ? " in the connection's current schema" : ""));
        }
        return match;
    }

    private String column(java.util.Map<String, String> actual, String column) {
        String found = actual.get(column.toLowerCase(java.util.Locale.ROOT));
        if (found == null) {
            throw new ConfigException("table " + table + " has no column " + column + "; it has " + actual.values());
        }
        return found;
    }

    private static String quoted(String quote, String identifier) {
        return quote.isEmpty() ? identifier : quote + identifier + quote;
    }

    private static void requireIdentifier(String field, String value) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new ConfigException(field + " must be a plain SQL identifier (letters, digits, '_'), but was: " + value);
        }
    }
}
