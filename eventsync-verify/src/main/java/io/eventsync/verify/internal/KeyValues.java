package io.eventsync.verify.internal;

import java.math.BigDecimal;

/**
 * A value read from one database, converted to what a column of the other expects when bound:
 * a PostgreSQL {@code uuid} into a MariaDB {@code CHAR(36)}, a number into a text key, and back.
 */
final class KeyValues {
    private KeyValues() {}

    static Object forColumn(VerifyDialect dialect, NativeKind kind, Object value) {
        if (value == null) {
            return null;
        }
        return switch (kind) {
            case TEXT, FIXED_TEXT -> value instanceof String || value instanceof byte[] ? value : String.valueOf(value);
            case UUID -> dialect == VerifyDialect.MARIADB ? String.valueOf(value) : uuid(value);
            case INTEGER, DECIMAL -> value instanceof String s ? number(s) : value;
            default -> value;
        };
    }

    private static Object uuid(Object value) {
        if (value instanceof java.util.UUID) {
            return value;
        }
        try {
            return java.util.UUID.fromString(String.valueOf(value).trim());
        } catch (IllegalArgumentException e) {
            return value; // not a uuid: the database says so, naming the value
        }
    }

    private static Object number(String s) {
        try {
            return new BigDecimal(s.trim());
        } catch (NumberFormatException e) {
            return s;
        }
    }
}
