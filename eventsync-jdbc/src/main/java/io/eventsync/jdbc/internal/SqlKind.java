package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The database family of a connection, as far as the apply path needs it: how to quote an identifier
 * and how a unique-key violation is reported. The SQL text that differs per family lives in
 * {@link CopySql}; this type only names the family.
 */
public enum SqlKind {
    POSTGRESQL('"'),
    MARIADB('`'),
    H2('"');

    /** Identifiers from configuration: letters, digits and underscores, starting with a letter or underscore. */
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private final char quote;

    SqlKind(char quote) {
        this.quote = quote;
    }

    public static SqlKind of(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("postgres")) {
            return POSTGRESQL;
        }
        if (product.contains("mariadb") || product.contains("mysql")) {
            return MARIADB;
        }
        if (product.contains("h2")) {
            return H2;
        }
        throw new ConfigException("database product '" + product
                + "' is not supported; use PostgreSQL, MariaDB/MySQL or H2");
    }

    /**
     * Validates an identifier that came from configuration and returns it. Names are kept as written
     * (quoted), so a table declared {@code orders_copy} is {@code "orders_copy"} in every dialect.
     */
    public static String requireIdentifier(String field, String value) {
        if (value == null || !IDENTIFIER.matcher(value).matches()) {
            throw new ConfigException(field + " must be 1-63 characters of letters, digits or '_', starting"
                    + " with a letter or '_', but was: " + value);
        }
        return value;
    }

    /** Quotes an already validated identifier. */
    public String quote(String identifier) {
        return quote + identifier + quote;
    }

    /** {@code schema.table} quoted, or just the table when the schema is null. */
    public String qualified(String schema, String table) {
        return schema == null ? quote(table) : quote(schema) + "." + quote(table);
    }

    /** True when {@code e} (or a cause) reports a violated primary key / unique constraint. */
    public static boolean isUniqueViolation(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                if ("23505".equals(sql.getSQLState()) || sql.getErrorCode() == 1062) {
                    return true;
                }
            }
        }
        return false;
    }

    public String binaryType() {
        return switch (this) {
            case POSTGRESQL -> "BYTEA";
            case MARIADB -> "LONGBLOB";
            case H2 -> "VARBINARY";
        };
    }

    public String textType() {
        return switch (this) {
            case POSTGRESQL, H2 -> "VARCHAR";
            case MARIADB -> "LONGTEXT";
        };
    }

    public String timestampType() {
        return switch (this) {
            case POSTGRESQL -> "TIMESTAMP WITH TIME ZONE";
            case MARIADB -> "DATETIME(6)";
            case H2 -> "TIMESTAMP(6) WITH TIME ZONE";
        };
    }

    public String doubleType() {
        return this == MARIADB ? "DOUBLE" : "DOUBLE PRECISION";
    }
}
