package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import java.util.regex.Pattern;

/**
 * Where eventsync's tables live: a schema (a MariaDB/MySQL database) and a table prefix.
 *
 * <p>Both travel into SQL, so they are validated here, at configuration time, and quoted by the
 * dialect when used; nothing else of them is ever concatenated into a statement.
 *
 * @param schema an existing schema, or {@code null} for the connection's current schema
 * @param prefix prepended to every table name; may be empty
 */
public record SchemaNames(String schema, String prefix) {

    /** A plain SQL identifier: portable across PostgreSQL, MariaDB and H2 without surprises. */
    public static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,47}");
    private static final Pattern PREFIX = Pattern.compile("([A-Za-z_][A-Za-z0-9_]{0,29})?");

    public static final String DEFAULT_PREFIX = "eventsync_";

    public SchemaNames {
        if (schema != null && !IDENTIFIER.matcher(schema).matches()) {
            throw new ConfigException("schema must match " + IDENTIFIER.pattern() + " but was: " + schema);
        }
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new ConfigException("prefix must match " + PREFIX.pattern() + " but was: " + prefix);
        }
    }

    /** The connection's current schema, prefix {@code eventsync_}. */
    public static SchemaNames defaults() {
        return new SchemaNames(null, DEFAULT_PREFIX);
    }

    /** The given schema, prefix {@code eventsync_}. */
    public static SchemaNames of(String schema) {
        return new SchemaNames(schema, DEFAULT_PREFIX);
    }

    public SchemaNames withPrefix(String newPrefix) {
        return new SchemaNames(schema, newPrefix);
    }
}
