package io.eventsync.jdbc.internal;

import io.eventsync.jdbc.SchemaNames;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The quoted, schema-qualified names of eventsync's tables for one dialect. Built from validated
 * {@link SchemaNames}; the only way table names enter SQL.
 */
public record Tables(Dialect dialect, String schema, String prefix) {

    public Tables {
        Identifiers.require("schema", schema);
        new SchemaNames(schema, prefix); // validates the prefix
    }

    /** Resolves the dialect and, when not configured, the current schema from a connection. */
    public static Tables resolve(Connection connection, SchemaNames names) throws SQLException {
        Dialect dialect = Dialect.of(connection);
        String schema = names.schema() != null ? names.schema() : dialect.currentSchema(connection);
        return new Tables(dialect, schema, names.prefix());
    }

    /** {@code "schema"."<prefix><suffix>"}: an eventsync table. */
    public String table(String suffix) {
        return qualified(prefix + suffix);
    }

    /** {@code "schema"."name"}: any table in this schema, e.g. a copy table from configuration. */
    public String qualified(String name) {
        if (name == null) {
            Identifiers.require("table", name); // throws, naming the field
        }
        // Asked for on every statement of the data path: validated and quoted once per name.
        return QUALIFIED.computeIfAbsent(List.of(dialect.name(), schema, name),
                k -> dialect.quote(schema) + "." + dialect.quote(Identifiers.require("table", name)));
    }

    /** (dialect, schema, name) -> quoted qualified name; as many entries as tables in use. */
    private static final Map<List<String>, String> QUALIFIED = new ConcurrentHashMap<>();

    public String outbox() { return table("outbox"); }

    public String outboxDeadLetters() { return table("outbox_dead_letters"); }

    public String lease() { return table("lease"); }

    public String log() { return table("log"); }

    public String logHead() { return table("log_head"); }

    public String logGroup() { return table("log_group"); }

    public String offsets() { return table("offsets"); }

    public String inbox() { return table("inbox"); }

    public String deadLetters() { return table("dead_letters"); }

    /** {@code schema.<prefix><suffix>}, unquoted: an eventsync table's name for messages and metrics. */
    public String name(String suffix) {
        return schema + "." + prefix + suffix;
    }

    /** The unquoted outbox table name, for messages and the notification channel. */
    public String outboxName() {
        return schema + "." + prefix + "outbox";
    }
}
