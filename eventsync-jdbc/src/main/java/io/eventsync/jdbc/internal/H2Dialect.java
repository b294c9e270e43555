package io.eventsync.jdbc.internal;

import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;

/** H2 2.x, the embedded default: standard SQL, MERGE ... USING for upserts. */
final class H2Dialect extends StandardDialect {
    @Override
    public boolean losesTransactionSilently() {
        return true;
    }


    @Override
    public boolean inProcess() {
        return true; // only embedded H2 is supported (jdbc:h2:file:, jdbc:h2:mem:, jdbc:h2:async:)
    }


    @Override
    public String name() {
        return "h2";
    }

    @Override
    public String nowPlusMillis() {
        return "DATEADD(MILLISECOND, CAST(? AS BIGINT), CURRENT_TIMESTAMP)";
    }

    @Override
    String textParam() {
        return "CAST(? AS VARCHAR)";
    }

    @Override
    String intParam() {
        return "CAST(? AS INT)";
    }

    /**
     * H2 never caches a {@code FOR UPDATE} query, so it parsed the lock statements again for every
     * relay and log batch (about a quarter of the log writer's time). A no-op UPDATE locks the row
     * the same way (a concurrent writer waits for the commit) and, read through {@code FINAL TABLE},
     * returns the row from a query H2 does cache.
     */
    @Override
    public String lockLease(Tables t) {
        return "SELECT owner, epoch FROM FINAL TABLE (UPDATE " + t.lease() + " SET epoch = epoch WHERE name = ?)";
    }

    @Override
    public String lockLogHead(Tables t) {
        return "SELECT next_offset FROM FINAL TABLE (UPDATE " + t.logHead() + " SET next_offset = next_offset"
                + " WHERE topic = ?)";
    }

    @Override
    public String upsertPartitionFreshness(Tables t) {
        return "MERGE INTO " + t.table("freshness_partition") + " (subscription, source, partition_name, source_time, applied_at, lag_events, recorded_at)"
                + " KEY (subscription, source, partition_name) VALUES (?, ?, ?, ?, ?, ?, ?)";
    }

    @Override
    public String upsertMax(String table, List<String> keys, String value, String time) {
        StringBuilder src = new StringBuilder();
        for (String key : keys) {
            src.append("CAST(? AS VARCHAR(500)) AS ").append(key).append(", ");
        }
        src.append("CAST(? AS BIGINT) AS ").append(value);
        String on = keys.stream().map(k -> "cur." + k + " = src." + k).collect(Collectors.joining(" AND "));
        String cols = String.join(", ", keys) + ", " + value + ", " + time;
        String vals = keys.stream().map(k -> "src." + k).collect(Collectors.joining(", ")) + ", src." + value + ", " + now();
        return "MERGE INTO " + table + " AS cur USING (SELECT " + src + ") AS src ON " + on
                + " WHEN MATCHED THEN UPDATE SET " + value + " = GREATEST(cur." + value + ", src." + value + "), "
                + time + " = " + now()
                + " WHEN NOT MATCHED THEN INSERT (" + cols + ") VALUES (" + vals + ")";
    }

    /**
     * The VALUES row is typed with casts, but without lengths: H2 truncates a string cast to
     * {@code VARCHAR(255)} silently, so a 300-character key would be stored cut (and two keys sharing
     * their first 255 characters would collide). Unbounded casts leave the check to the column, which
     * refuses a value too long for it (SQLState 22001), as PostgreSQL and MariaDB do.
     */
    @Override
    public String upsertVersioned(String table, List<String> keys, List<String> values, String version, List<String> types) {
        List<String> cols = new java.util.ArrayList<>(keys);
        cols.addAll(values);
        cols.add(version);
        List<String> casts = new java.util.ArrayList<>();
        for (String type : types) {
            casts.add("CAST(? AS " + type.replaceFirst("^(VARCHAR|VARBINARY)\\(\\d+\\)$", "$1") + ")");
        }
        return "MERGE INTO " + table + " AS cur USING (VALUES (" + String.join(", ", casts) + ")) AS src ("
                + String.join(", ", cols) + ") ON "
                + keys.stream().map(k -> "cur." + k + " = src." + k).collect(Collectors.joining(" AND "))
                + " WHEN MATCHED AND cur." + version + " < src." + version + " THEN UPDATE SET "
                + values.stream().map(v -> v + " = src." + v + ", ").collect(Collectors.joining())
                + version + " = src." + version
                + " WHEN NOT MATCHED THEN INSERT (" + String.join(", ", cols) + ") VALUES ("
                + cols.stream().map(c -> "src." + c).collect(Collectors.joining(", ")) + ")";
    }

    @Override
    public String upsertTombstone(String table) {
        // Unbounded casts for the reason given at upsertVersioned: a cut row key would be another key's.
        return "MERGE INTO " + table + " AS cur USING (VALUES (CAST(? AS VARCHAR), CAST(? AS VARCHAR),"
                + " CAST(? AS BIGINT), CAST(? AS TIMESTAMP WITH TIME ZONE))) AS src (copy_table, row_key, version, deleted_at)"
                + " ON cur.copy_table = src.copy_table AND cur.row_key = src.row_key"
                + " WHEN MATCHED THEN UPDATE SET version = GREATEST(cur.version, src.version), deleted_at = src.deleted_at"
                + " WHEN NOT MATCHED THEN INSERT (copy_table, row_key, version, deleted_at)"
                + " VALUES (src.copy_table, src.row_key, src.version, src.deleted_at)";
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        return codeIs(e, 23505) || stateIs(e, "23505");
    }

    @Override
    public boolean isMissingTable(SQLException e) {
        return codeIs(e, 42102, 42104, 90079) || stateIs(e, "42S02", "42S04");
    }
}
