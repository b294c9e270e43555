package io.eventsync.jdbc.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The statements of one copy table in one database, built once. Identifiers were validated when the
 * copy table was declared and are quoted here; the two upserts come from the {@link Dialect}
 * (ON CONFLICT on PostgreSQL, ON DUPLICATE KEY on MariaDB, MERGE on H2).
 *
 * <p>The upsert and the delete carry the version guard themselves (change only a row whose stored
 * version is lower), so even two racing transactions of one key cannot move a row backwards. The
 * tombstones table remembers the version at which a key was deleted, so an older event arriving after
 * the delete cannot bring the row back.
 */
public final class CopySql {
    public final String selectVersion;
    public final String upsert;
    /** Params: the value columns, the version, the key columns, the version again. */
    public final String update;
    public final String delete;
    public final String selectTombstone;
    public final String upsertTombstone;
    public final String deleteTombstone;
    /** Params: copy_table, cutoff. One bounded batch of this table's tombstones older than the cutoff. */
    public final String purgeTombstones;
    /** The copy table's DDL; the tombstones table's is the shipped schema's ({@code EventsyncSchema}). */
    public final List<String> createTables;
    public final Tables tables;
    /** The copy table, qualified and quoted: two copy tables with this in common write the same rows. */
    public final String target;

    public CopySql(Tables tables, String table, List<CopyColumn> keys, String versionColumn, List<CopyColumn> values) {
        this.tables = tables;
        Dialect dialect = tables.dialect();
        String t = tables.qualified(table);
        this.target = t;
        String v = dialect.quote(versionColumn);
        List<String> keyCols = keys.stream().map(k -> dialect.quote(k.column())).toList();
        List<String> valueCols = values.stream().map(c -> dialect.quote(c.column())).toList();
        String keyMatch = keyCols.stream().map(k -> k + " = ?").collect(Collectors.joining(" AND "));
        List<String> types = new ArrayList<>();
        keys.forEach(k -> types.add(k.sqlType(dialect, true)));
        values.forEach(c -> types.add(c.sqlType(dialect, false)));
        types.add("BIGINT");

        // No FOR UPDATE: per-key order comes from the lanes and the guarded statements below re-check
        // the version under the row lock; the read only decides between apply and "stale" (and H2 does
        // not cache FOR UPDATE queries, which made this read the most expensive step of an apply).
        this.selectVersion = "SELECT " + v + " FROM " + t + " WHERE " + keyMatch;
        this.delete = "DELETE FROM " + t + " WHERE " + keyMatch + " AND " + v + " < ?";
        this.upsert = dialect.upsertVersioned(t, keyCols, valueCols, v, types);
        // The common case (an existing row, a newer event) in one guarded statement instead of a read
        // and an upsert; 0 rows changed sends the apply down the read path (new key, stale, tombstone).
        this.update = "UPDATE " + t + " SET " + valueCols.stream().map(c -> c + " = ?, ").collect(Collectors.joining())
                + v + " = ? WHERE " + keyMatch + " AND " + v + " < ?";

        String tomb = tables.table("copy_tombstones");
        this.selectTombstone = "SELECT version FROM " + tomb + " WHERE copy_table = ? AND row_key = ?";
        this.deleteTombstone = "DELETE FROM " + tomb + " WHERE copy_table = ? AND row_key = ?";
        this.upsertTombstone = dialect.upsertTombstone(tomb);
        this.purgeTombstones = dialect.deleteOlderThan(tomb, "copy_table", "deleted_at", Purge.BATCH);

        StringBuilder ddl = new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(t).append(" (");
        for (int i = 0; i < keys.size(); i++) {
            ddl.append(keyCols.get(i)).append(' ').append(types.get(i)).append(" NOT NULL, ");
        }
        for (int i = 0; i < values.size(); i++) {
            ddl.append(valueCols.get(i)).append(' ').append(types.get(keys.size() + i)).append(", ");
        }
        ddl.append(v).append(" BIGINT NOT NULL, PRIMARY KEY (").append(String.join(", ", keyCols)).append("))");
        this.createTables = List.of(ddl.toString());
    }
}
