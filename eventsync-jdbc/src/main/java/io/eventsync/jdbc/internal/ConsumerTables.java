package io.eventsync.jdbc.internal;

/**
 * Where the eventsync tables of one database live: an optional schema and the table prefix
 * ({@code eventsync_} by default). Both are validated identifiers.
 */
public record ConsumerTables(String schema, String prefix) {
    public static final String DEFAULT_PREFIX = "eventsync_";

    public ConsumerTables {
        if (schema != null) {
            SqlKind.requireIdentifier("schema", schema);
        }
        if (prefix == null) {
            prefix = DEFAULT_PREFIX;
        }
        if (!prefix.isEmpty()) {
            SqlKind.requireIdentifier("tablePrefix", prefix);
        }
    }

    public String inbox(SqlKind kind) {
        return kind.qualified(schema, prefix + "inbox");
    }

    public String deadLetters(SqlKind kind) {
        return kind.qualified(schema, prefix + "dead_letters");
    }
}
