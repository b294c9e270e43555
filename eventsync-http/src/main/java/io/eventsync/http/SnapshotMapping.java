package io.eventsync.http;

import io.eventsync.ConfigException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * A table the {@link FeedServer} serves as a snapshot: {@code GET /v1/snapshots/{name}} pages through
 * its rows by key and serves each as an envelope (via {@link RowMapper}), together with the position
 * of {@code topic}'s feed at which the snapshot is consistent.
 *
 * <p>The table must live in the same database as the topic's log: the server reads the log's head
 * before it reads any row, so every row it serves is at least as new as that position.
 */
public final class SnapshotMapping {
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    /** Turns the current row of a result set into a snapshot row. Must not move the cursor. */
    @FunctionalInterface
    public interface RowMapper {
        SnapshotRow map(ResultSet row) throws SQLException;
    }

    private final String name;
    private final String topic;
    private final String table;
    private final List<String> keyColumns;
    private final DataSource dataSource;
    private final RowMapper mapper;

    private SnapshotMapping(Builder b) {
        this.name = b.name;
        this.topic = b.topic;
        this.table = b.table;
        this.keyColumns = List.copyOf(b.keyColumns);
        this.dataSource = b.dataSource;
        this.mapper = b.mapper;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() { return name; }
    public String topic() { return topic; }
    public String table() { return table; }
    public List<String> keyColumns() { return keyColumns; }
    public DataSource dataSource() { return dataSource; }
    public RowMapper mapper() { return mapper; }

    public static final class Builder {
        private final String name;
        private String topic;
        private String table;
        private List<String> keyColumns = List.of();
        private DataSource dataSource;
        private RowMapper mapper;

        private Builder(String name) {
            this.name = name;
        }

        /** The feed topic whose position the snapshot is consistent with. */
        public Builder topic(String topic) { this.topic = topic; return this; }
        /** The table, optionally schema-qualified; letters, digits and '_' only (it goes into SQL). */
        public Builder table(String table) { this.table = table; return this; }
        /** The primary key columns, in the order rows are paged. */
        public Builder keyColumns(String... columns) { this.keyColumns = List.of(columns); return this; }
        /** The source database (holding both the table and the topic's log). */
        public Builder dataSource(DataSource dataSource) { this.dataSource = dataSource; return this; }
        public Builder rows(RowMapper mapper) { this.mapper = mapper; return this; }

        public SnapshotMapping build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new ConfigException("snapshot name must be 1-200 letters, digits, '.', '_' or '-' but was: " + name);
            }
            if (topic == null || !NAME.matcher(topic).matches()) {
                throw new ConfigException("snapshot " + name + ": topic must be a valid topic name but was: " + topic);
            }
            if (table == null || !IDENTIFIER.matcher(table).matches()) {
                throw new ConfigException("snapshot " + name + ": table must be an identifier ([schema.]name) but was: " + table);
            }
            if (keyColumns.isEmpty()) {
                throw new ConfigException("snapshot " + name + ": keyColumns must name at least one column");
            }
            for (String column : keyColumns) {
                if (column == null || !IDENTIFIER.matcher(column).matches() || column.contains(".")) {
                    throw new ConfigException("snapshot " + name + ": key column must be an identifier but was: " + column);
                }
            }
            Objects.requireNonNull(dataSource, () -> "snapshot " + name + ": dataSource is required");
            Objects.requireNonNull(mapper, () -> "snapshot " + name + ": rows (a RowMapper) is required");
            return new SnapshotMapping(this);
        }
    }
}
