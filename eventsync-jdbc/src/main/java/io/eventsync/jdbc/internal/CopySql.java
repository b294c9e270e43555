package io.eventsync.jdbc.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of one copy table in one dialect, built once. Identifiers were validated when the copy
 * table was declared and are quoted here.
 *
 * <p>The upsert carries the version guard itself (update only when the stored version is lower), so
 * even two racing transactions of one key (a zombie and its retry) cannot move a row backwards. The
 * tombstones table remembers the version at which a key was deleted, so an older event arriving after
 * the delete cannot resurrect the row.
 */
public final class CopySql {

    public final String selectVersion;
    public final String upsert;
    public final String delete;
    public final String selectTombstone;
    public final String upsertTombstone;
    public final String deleteTombstone;
    public final List<String> createTables;

    public CopySql(Tables tables, String table, List<CopyColumn> keys, String versionColumn, List<CopyColumn> values) {
        Dialect kind = tables.dialect();
        String t = tables.qualified(table);
        String v = kind.quote(versionColumn);
        String keyMatch = keys.stream().map(k -> kind.quote(k.column()) + " = ?").collect(Collectors.joining(" AND "));
        List<CopyColumn> all = new ArrayList<>(keys);
        all.addAll(values);
        List<String> cols = new ArrayList<>(all.stream().map(c -> kind.quote(c.column())).toList());
        cols.add(v);
        String colList = String.join(", ", cols);
        String params = cols.stream().map(c -> "?").collect(Collectors.joining(", "));
        String keyList = keys.stream().map(k -> kind.quote(k.column())).collect(Collectors.joining(", "));

        this.selectVersion = "SELECT " + v + " FROM " + t + " WHERE " + keyMatch + " FOR UPDATE";
        this.delete = "DELETE FROM " + t + " WHERE " + keyMatch;
        this.upsert = switch (kind.name()) {
            case "postgresql" -> "INSERT INTO " + t + " AS cur (" + colList + ") VALUES (" + params + ")"
                    + " ON CONFLICT (" + keyList + ") DO UPDATE SET "
                    + values.stream().map(c -> kind.quote(c.column()) + " = EXCLUDED." + kind.quote(c.column()))
                            .map(s -> s + ", ").collect(Collectors.joining())
                    + v + " = EXCLUDED." + v + " WHERE cur." + v + " < EXCLUDED." + v;
            // MariaDB evaluates the assignments left to right with already-updated values, so the
            // version column is assigned last and every other column compares the old version.
            case "mariadb" -> "INSERT INTO " + t + " (" + colList + ") VALUES (" + params + ")"
                    + " ON DUPLICATE KEY UPDATE "
                    + values.stream().map(c -> kind.quote(c.column()) + " = IF(" + v + " < VALUES(" + v + "), VALUES("
                            + kind.quote(c.column()) + "), " + kind.quote(c.column()) + "), ").collect(Collectors.joining())
                    + v + " = GREATEST(" + v + ", VALUES(" + v + "))";
            default -> "MERGE INTO " + t + " AS cur USING (VALUES (" + castParams(kind, keys, values) + ")) AS src ("
                    + colList + ") ON " + keys.stream().map(k -> "cur." + kind.quote(k.column()) + " = src."
                            + kind.quote(k.column())).collect(Collectors.joining(" AND "))
                    + " WHEN MATCHED AND cur." + v + " < src." + v + " THEN UPDATE SET "
                    + values.stream().map(c -> kind.quote(c.column()) + " = src." + kind.quote(c.column()) + ", ")
                            .collect(Collectors.joining())
                    + v + " = src." + v
                    + " WHEN NOT MATCHED THEN INSERT (" + colList + ") VALUES ("
                    + cols.stream().map(c -> "src." + c).collect(Collectors.joining(", ")) + ")";
        };

        String tomb = tables.table("copy_tombstones");
        this.selectTombstone = "SELECT version FROM " + tomb + " WHERE copy_table = ? AND row_key = ? FOR UPDATE";
        this.deleteTombstone = "DELETE FROM " + tomb + " WHERE copy_table = ? AND row_key = ?";
        this.upsertTombstone = switch (kind.name()) {
            case "postgresql" -> "INSERT INTO " + tomb + " (copy_table, row_key, version) VALUES (?, ?, ?)"
                    + " ON CONFLICT (copy_table, row_key) DO UPDATE SET version = EXCLUDED.version";
            case "mariadb" -> "INSERT INTO " + tomb + " (copy_table, row_key, version) VALUES (?, ?, ?)"
                    + " ON DUPLICATE KEY UPDATE version = VALUES(version)";
            default -> "MERGE INTO " + tomb + " (copy_table, row_key, version) KEY (copy_table, row_key) VALUES (?, ?, ?)";
        };

        StringBuilder ddl = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(t).append(" (");
        for (CopyColumn k : keys) {
            ddl.append(kind.quote(k.column())).append(' ').append(k.sqlType(kind, true)).append(" NOT NULL, ");
        }
        for (CopyColumn c : values) {
            ddl.append(kind.quote(c.column())).append(' ').append(c.sqlType(kind, false)).append(", ");
        }
        ddl.append(v).append(" BIGINT NOT NULL, PRIMARY KEY (").append(keyList).append("))");
        String tombDdl = "CREATE TABLE IF NOT EXISTS " + tomb + " (copy_table VARCHAR(128) NOT NULL,"
                + " row_key VARCHAR(512) NOT NULL, version BIGINT NOT NULL, PRIMARY KEY (copy_table, row_key))";
        this.createTables = List.of(ddl.toString(), tombDdl);
    }

    /** H2 cannot infer the type of a bare parameter in a VALUES row, so each one is cast to its column type. */
    private static String castParams(Dialect kind, List<CopyColumn> keys, List<CopyColumn> values) {
        List<String> casts = new ArrayList<>();
        keys.forEach(k -> casts.add("CAST(? AS " + k.sqlType(kind, true) + ")"));
        values.forEach(c -> casts.add("CAST(? AS " + c.sqlType(kind, false) + ")"));
        casts.add("CAST(? AS BIGINT)");
        return String.join(", ", casts);
    }
}
