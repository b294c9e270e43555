package io.eventsync.verify.internal;

import io.eventsync.ConfigException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One side's table as the database spells it: found without regard to case, with each named column's
 * exact name, quoted form and kind.
 *
 * @param qualified     the quoted, schema-qualified (when given) table name, for SQL
 * @param catalogName   {@code schema.table} as the catalog spells it (for the row estimate)
 * @param schema        the schema (MariaDB: database) the table was found in
 * @param name          the table's exact name
 * @param key           the key column
 * @param columns       the compared columns, in the projection's order
 * @param version       the version column, or null
 */
public record ResolvedTable(VerifyDialect dialect, String qualified, String catalogName, String schema, String name,
                            Column key, List<Column> columns, Column version, String where) {

    /** A column: its exact name, its quoted form, what it holds and whether it may be NULL. */
    public record Column(String name, String quoted, NativeKind kind, boolean nullable) {}

    /**
     * Looks the table and columns up in {@code c}'s catalog. {@code schema} null means the connection's
     * current schema; {@code versionColumn} may be null.
     */
    public static ResolvedTable resolve(Connection c, String schema, String table, String keyColumn,
                                        List<String> columnNames, String versionColumn, String where)
            throws SQLException {
        VerifyDialect dialect = VerifyDialect.of(c);
        DatabaseMetaData meta = c.getMetaData();
        String[] found = findTable(meta, c, schema, table);
        Map<String, Column> actual = new LinkedHashMap<>();
        try (ResultSet rs = meta.getColumns(found[0], found[1], found[2], null)) {
            while (rs.next()) {
                String column = rs.getString("COLUMN_NAME");
                NativeKind kind = NativeKind.of(dialect, rs.getInt("DATA_TYPE"), rs.getString("TYPE_NAME"),
                        rs.getInt("COLUMN_SIZE"));
                boolean nullable = !"NO".equalsIgnoreCase(rs.getString("IS_NULLABLE"));
                actual.putIfAbsent(column.toLowerCase(Locale.ROOT), new Column(column, dialect.quote(column), kind, nullable));
            }
        }
        String owner = found[1] != null ? found[1] : found[0];
        String qualified = (schema != null && owner != null ? dialect.quote(owner) + "." : "") + dialect.quote(found[2]);
        List<Column> columns = new ArrayList<>();
        for (String name : columnNames) {
            columns.add(column(actual, table, name));
        }
        Column version = versionColumn == null ? null : column(actual, table, versionColumn);
        String catalogName = (owner != null ? owner : "") + "." + found[2];
        return new ResolvedTable(dialect, qualified, catalogName, owner, found[2], column(actual, table, keyColumn),
                List.copyOf(columns), version, where);
    }

    private static Column column(Map<String, Column> actual, String table, String name) {
        Column found = actual.get(name.toLowerCase(Locale.ROOT));
        if (found == null) {
            throw new ConfigException("table " + table + " has no column " + name + "; it has "
                    + actual.values().stream().map(Column::name).toList());
        }
        return found;
    }

    /** catalog, schema, name of the one table matching {@code schema.name} without regard to case. */
    private static String[] findTable(DatabaseMetaData meta, Connection c, String schema, String name)
            throws SQLException {
        String[] match = null;
        String current = c.getSchema();
        String currentCatalog = c.getCatalog();
        String shown = schema == null ? name : schema + "." + name;
        try (ResultSet rs = meta.getTables(null, null, null, new String[] {"TABLE", "BASE TABLE", "VIEW"})) {
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
                        throw new ConfigException("table " + shown + " is ambiguous: both " + match[2] + " and "
                                + tableName + " exist; they differ only in case");
                    }
                    match = new String[] {catalog, tableSchema, tableName};
                }
            }
        }
        if (match == null) {
            throw new ConfigException("table " + shown + " does not exist" + (schema == null
                    ? " in the connection's current schema (" + (current != null ? current : currentCatalog) + ")" : ""));
        }
        return match;
    }
}
