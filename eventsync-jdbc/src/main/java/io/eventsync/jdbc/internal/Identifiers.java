package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.SchemaNames;

/** Validation of identifiers that come from configuration (copy tables, columns, schema names). */
public final class Identifiers {
    private Identifiers() {}

    /**
     * Returns {@code value} if it is a plain identifier ({@link SchemaNames#IDENTIFIER}); otherwise
     * throws a {@link ConfigException} naming {@code field} and the value.
     */
    public static String require(String field, String value) {
        if (value == null || !SchemaNames.IDENTIFIER.matcher(value).matches()) {
            throw new ConfigException(field + " must be an identifier matching " + SchemaNames.IDENTIFIER.pattern()
                    + " but was: " + value);
        }
        return value;
    }
}
