package io.eventsync.verify.internal;

import java.sql.Types;
import java.util.Locale;

/** What a column holds, as far as comparing it across databases goes (from its JDBC metadata). */
public enum NativeKind {
    INTEGER, DECIMAL, FLOAT, BOOLEAN, TEXT, FIXED_TEXT, UUID, TIMESTAMP, TIMESTAMP_UTC, DATE, BINARY, OTHER;

    /** Character-like keys: their order depends on a collation, so ranges are checked on the other side. */
    boolean ordersByCollation() {
        return this == TEXT || this == FIXED_TEXT || this == UUID || this == OTHER || this == BINARY;
    }

    static NativeKind of(VerifyDialect dialect, int jdbcType, String typeName, int size) {
        String type = typeName == null ? "" : typeName.toLowerCase(Locale.ROOT);
        if (type.equals("uuid")) {
            return UUID;
        }
        return switch (jdbcType) {
            case Types.BOOLEAN -> BOOLEAN;
            // PostgreSQL reports boolean as BIT; MariaDB's BIT(1) is a flag; a wider BIT is a number.
            case Types.BIT -> type.startsWith("bool") || size <= 1 ? BOOLEAN : INTEGER;
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> INTEGER;
            case Types.NUMERIC, Types.DECIMAL -> DECIMAL;
            case Types.REAL, Types.FLOAT, Types.DOUBLE -> FLOAT;
            case Types.CHAR, Types.NCHAR -> FIXED_TEXT;
            case Types.VARCHAR, Types.NVARCHAR, Types.LONGVARCHAR, Types.LONGNVARCHAR, Types.CLOB, Types.NCLOB -> TEXT;
            case Types.DATE -> DATE;
            // PostgreSQL's timestamptz and MariaDB's TIMESTAMP are instants; DATETIME and plain TIMESTAMP are wall times.
            case Types.TIMESTAMP -> type.equals("timestamptz")
                    || (dialect == VerifyDialect.MARIADB && type.equals("timestamp")) ? TIMESTAMP_UTC : TIMESTAMP;
            case Types.TIMESTAMP_WITH_TIMEZONE -> TIMESTAMP_UTC;
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> BINARY;
            default -> OTHER;
        };
    }
}
