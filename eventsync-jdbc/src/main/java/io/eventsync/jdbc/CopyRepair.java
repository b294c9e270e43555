package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.internal.CopyColumn;
import io.eventsync.jdbc.internal.CopySql;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.Identifiers;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Writes rows of a copy table from outside the event path (what {@code eventsync verify --repair}
 * does), under the same version guard and tombstones as {@link CopyTable}, so a repair can never
 * overwrite or bring back what a newer event applied.
 *
 * <p>The row statements are {@link CopyTable}'s own ({@code CopySql}); only the guard differs by one:
 * a repair carries the source row's version and may rewrite a copy row of that <em>same</em> version
 * (a row changed behind eventsync's back keeps its version), never one of a greater version.
 *
 * <p>Runs in the caller's transaction (it never commits). Column names are used as given (the
 * database's own spelling) and quoted; values are bound with {@code setObject}.
 */
public final class CopyRepair {
    private final String table;
    private final List<String> keyColumns;
    private final String versionColumn;
    private final SchemaNames names;
    /** Per dialect and value columns: the statements, built on first use. */
    private final Map<List<String>, Statements> sql = new ConcurrentHashMap<>();

    private CopyRepair(String table, List<String> keyColumns, String versionColumn, SchemaNames names) {
        this.table = table;
        this.keyColumns = keyColumns;
        this.versionColumn = versionColumn;
        this.names = names;
    }

    /**
     * The repair of {@code table} (in {@code names}' schema, beside eventsync's tables, as
     * {@link CopyTable} keeps it) keyed by {@code keyColumns}, with the version in {@code versionColumn}.
     */
    public static CopyRepair of(String table, List<String> keyColumns, String versionColumn, SchemaNames names) {
        Objects.requireNonNull(names, "names");
        if (keyColumns == null || keyColumns.isEmpty()) {
            throw new ConfigException("copy table " + table + " needs at least one key column to be repaired");
        }
        Identifiers.require("table", table);
        keyColumns.forEach(k -> Identifiers.require("keyColumns", k));
        Identifiers.require("versionColumn", versionColumn);
        return new CopyRepair(table, List.copyOf(keyColumns), versionColumn, names);
    }

    /** What a repair of one key did. */
    public record Change(boolean changed, String detail) {}

    /**
     * Makes the row of {@code key} hold {@code values} (column to value, key and version columns
     * excluded) at {@code version}, unless the copy holds the key at a greater version or deleted it
     * at a greater version.
     */
    public Change upsert(Connection c, List<Object> key, Map<String, Object> values, long version) throws SQLException {
        for (String column : values.keySet()) {
            if (column.equalsIgnoreCase(versionColumn) || keyColumns.stream().anyMatch(column::equalsIgnoreCase)) {
                throw new IllegalArgumentException("values must not hold the key or version column, but hold " + column);
            }
        }
        Statements q = statements(c, List.copyOf(values.keySet()));
        List<Object> row = new ArrayList<>(values.values());
        for (int attempt = 1; ; attempt++) {
            // CopyTable's guarded update ("version < ?") with the guard one higher: "version <= source version".
            if (update(c, q, row, key, version) > 0) {
                return new Change(true, "updated to version " + version);
            }
            Long stored = selectLong(c, q.rows.selectVersion, key);
            if (stored != null) {
                return new Change(false, "kept: the copy holds version " + stored + ", newer than the source's " + version);
            }
            String rowKey = CopyTable.rowKey(key);
            Long deletedAt = selectTombstone(c, q.rows, rowKey);
            if (deletedAt != null && deletedAt > version) {
                return new Change(false, "kept deleted: the copy deleted it at version " + deletedAt
                        + ", newer than the source's " + version);
            }
            try {
                insert(c, q, key, row, version);
            } catch (SQLException e) {
                if (attempt == 1 && q.dialect.isDuplicateKey(e)) {
                    continue; // an event inserted the key meanwhile: the guarded update decides again
                }
                throw e;
            }
            if (deletedAt != null) {
                tombstone(c, q.rows.deleteTombstone, rowKey, null);
            }
            return new Change(true, "inserted at version " + version);
        }
    }

    /**
     * Deletes the row of {@code key} if its version is still at most {@code version} (the version the
     * caller saw), and records the deletion at that version so that no older event brings it back.
     */
    public Change delete(Connection c, List<Object> key, long version) throws SQLException {
        Statements q = statements(c, List.of());
        int deleted;
        try (PreparedStatement ps = c.prepareStatement(q.rows.delete)) {
            int i = bindKey(ps, 1, key);
            ps.setLong(i, guard(version));
            deleted = ps.executeUpdate();
        }
        if (deleted == 0) {
            Long stored = selectLong(c, q.rows.selectVersion, key);
            return new Change(false, stored == null ? "already gone"
                    : "kept: the copy holds version " + stored + ", newer than the " + version + " it was compared at");
        }
        tombstone(c, q.rows.upsertTombstone, CopyTable.rowKey(key), version);
        return new Change(true, "deleted at version " + version);
    }

    private int update(Connection c, Statements q, List<Object> row, List<Object> key, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.rows.update)) {
            int i = 1;
            for (Object v : row) {
                ps.setObject(i++, v);
            }
            ps.setLong(i++, version);
            i = bindKey(ps, i, key);
            ps.setLong(i, guard(version));
            return ps.executeUpdate();
        }
    }

    private void insert(Connection c, Statements q, List<Object> key, List<Object> row, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.insert)) {
            int i = bindKey(ps, 1, key);
            for (Object v : row) {
                ps.setObject(i++, v);
            }
            ps.setLong(i, version);
            ps.executeUpdate();
        }
    }

    private int bindKey(PreparedStatement ps, int first, List<Object> key) throws SQLException {
        if (key.size() != keyColumns.size()) {
            throw new IllegalArgumentException("key " + key + " has " + key.size() + " parts; " + table + " has key columns "
                    + keyColumns);
        }
        int i = first;
        for (Object part : key) {
            ps.setObject(i++, part);
        }
        return i;
    }

    private Long selectLong(Connection c, String query, List<Object> key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(query)) {
            bindKey(ps, 1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private Long selectTombstone(Connection c, CopySql q, String rowKey) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(q.selectTombstone)) {
            ps.setString(1, table);
            ps.setString(2, rowKey);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private void tombstone(Connection c, String statement, String rowKey, Long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(statement)) {
            ps.setString(1, table);
            ps.setString(2, rowKey);
            if (version != null) {
                ps.setLong(3, version);
                ps.setTimestamp(4, Timestamp.from(Instant.now())); // deleted_at, for tombstone retention
            }
            ps.executeUpdate();
        }
    }

    /** {@code version < guard} is {@code version <= v}; the greatest version cannot be exceeded. */
    private static long guard(long version) {
        return version == Long.MAX_VALUE ? version : version + 1;
    }

    private Statements statements(Connection c, List<String> valueColumns) throws SQLException {
        Dialect dialect = Dialect.of(c);
        List<String> cacheKey = new ArrayList<>(valueColumns);
        cacheKey.add(0, dialect.name());
        Statements q = sql.get(cacheKey);
        if (q == null) {
            Tables tables = Tables.resolve(c, names);
            // CopyColumn only names the columns here: CopySql's row and tombstone statements depend on the
            // names alone (types matter only for DDL and H2's typed MERGE, which a repair does not use).
            List<CopyColumn> keys = keyColumns.stream().map(CopyColumn::subject).toList();
            List<CopyColumn> values = valueColumns.stream().map(CopyColumn::subject).toList();
            CopySql rows = new CopySql(tables, table, keys, versionColumn, values);
            List<String> all = new ArrayList<>(keyColumns);
            all.addAll(valueColumns);
            all.add(versionColumn);
            String insert = "INSERT INTO " + tables.qualified(table) + " ("
                    + all.stream().map(dialect::quote).collect(Collectors.joining(", ")) + ") VALUES ("
                    + all.stream().map(x -> "?").collect(Collectors.joining(", ")) + ")";
            q = new Statements(dialect, rows, insert);
            sql.putIfAbsent(cacheKey, q);
        }
        return q;
    }

    private record Statements(Dialect dialect, CopySql rows, String insert) {}
}
