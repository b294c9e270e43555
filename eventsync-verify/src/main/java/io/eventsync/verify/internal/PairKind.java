package io.eventsync.verify.internal;

/**
 * How a pair of columns (source, copy) is normalized so that equal values hash the same on both
 * sides: the common form both sides render their values to.
 */
public enum PairKind {
    /** Exact numbers by value: integer text, decimals without trailing zeros ({@code 5.00} is {@code 5}). */
    NUMBER,
    /** Floating point: rounded to a fixed number of decimals, then as {@link #NUMBER}. */
    FLOAT,
    /** {@code 1} or {@code 0} (a MariaDB BOOLEAN is a TINYINT). */
    BOOLEAN,
    /** {@code yyyy-MM-dd HH:mm:ss[.ffffff]} in UTC, microseconds without trailing zeros; a timestamp without time zone is taken as UTC. */
    TIMESTAMP,
    /** {@code yyyy-MM-dd}. */
    DATE,
    /** Lower-case hex. */
    BINARY,
    /** Lower-case canonical text. */
    UUID,
    /** The text itself (fixed-width text without its trailing blanks); anything else as its text form. */
    TEXT;

    /** Text can hold any character, so it is length-prefixed in a row's canonical form (injective). */
    boolean lengthPrefixed() {
        return this == TEXT || this == UUID;
    }

    static PairKind of(NativeKind source, NativeKind copy) {
        if (isNumber(source) && isNumber(copy)) {
            return NUMBER;
        }
        if ((source == NativeKind.FLOAT || isNumber(source)) && (copy == NativeKind.FLOAT || isNumber(copy))) {
            return FLOAT;
        }
        if ((source == NativeKind.BOOLEAN || isNumber(source)) && (copy == NativeKind.BOOLEAN || isNumber(copy))) {
            return BOOLEAN;
        }
        if (isTimestamp(source) && isTimestamp(copy)) {
            return TIMESTAMP;
        }
        if (source == NativeKind.DATE && copy == NativeKind.DATE) {
            return DATE;
        }
        if (source == NativeKind.BINARY && copy == NativeKind.BINARY) {
            return BINARY;
        }
        if ((source == NativeKind.UUID || isText(source)) && (copy == NativeKind.UUID || isText(copy))
                && (source == NativeKind.UUID || copy == NativeKind.UUID)) {
            return UUID;
        }
        return TEXT;
    }

    private static boolean isNumber(NativeKind k) {
        return k == NativeKind.INTEGER || k == NativeKind.DECIMAL;
    }

    private static boolean isTimestamp(NativeKind k) {
        return k == NativeKind.TIMESTAMP || k == NativeKind.TIMESTAMP_UTC;
    }

    private static boolean isText(NativeKind k) {
        return k == NativeKind.TEXT || k == NativeKind.FIXED_TEXT;
    }
}
