package io.eventsync.verify.internal;

import io.eventsync.ConfigException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

/**
 * The SQL that differs between PostgreSQL, MariaDB/MySQL and H2 when a row is normalized and hashed
 * inside the database. Every side renders a value to the same text for the same {@link PairKind}
 * (numbers by value, text as UTF-8, timestamps in UTC, NULL distinct from empty), joins a row's
 * values into one canonical string and hashes it with MD5, the one digest all three have; the row's
 * hash is the first 60 bits of the digest as a non-negative BIGINT, so a range's checksum is an
 * exact SUM (PostgreSQL's and H2's NUMERIC, MariaDB's DECIMAL) that cannot overflow. Between two
 * PostgreSQL databases PostgreSQL's own 64-bit text hash takes MD5's place ({@link RowHash}).
 *
 * <p>The canonical string: values in column order, separated by {@code |}; NULL is {@code N};
 * a text value is {@code <UTF-8 length>:<text>}, so no value can run into the next and an empty
 * string ({@code 0:}) differs from NULL. The other kinds render without {@code |} or a leading digit
 * followed by {@code :} and need no prefix.
 */
public enum VerifyDialect {
    POSTGRES {
        @Override
        String quote(String identifier) {
            return '"' + identifier + '"';
        }

        @Override
        String render(PairKind pair, NativeKind nat, String v, Facts facts) {
            return switch (pair) {
                case NUMBER -> nat == NativeKind.DECIMAL ? trimmedDecimal("CAST(" + v + " AS text)", facts, v) : v + "::text";
                case FLOAT -> facts.trimScale()
                        ? "trim_scale(round(" + floatToNumeric(nat, v) + ", " + facts.floatScale() + "))::text"
                        : stripZeros("round(" + floatToNumeric(nat, v) + ", " + facts.floatScale() + ")::text");
                case BOOLEAN -> nat == NativeKind.BOOLEAN ? "CASE WHEN " + v + " THEN '1' WHEN NOT " + v + " THEN '0' END"
                        : numericFlag(v);
                // The ISO text form (the JDBC driver fixes DateStyle to ISO): twice as fast as to_char, and the
                // others render the same (microseconds without trailing zeros).
                case TIMESTAMP -> "(" + (nat == NativeKind.TIMESTAMP_UTC ? v + " AT TIME ZONE 'UTC'" : v) + ")::text";
                case DATE -> "to_char(" + v + ", 'YYYY-MM-DD')";
                case BINARY -> "encode(" + v + ", 'hex')";
                case UUID -> nat == NativeKind.UUID ? v + "::text" : "lower(" + text(nat, v) + ")";
                case TEXT -> text(nat, v);
            };
        }

        private String floatToNumeric(NativeKind nat, String v) {
            // float8's text form is its shortest exact representation (PostgreSQL 12+), as H2 and MariaDB
            // convert doubles; a direct float8 -> numeric cast would round to 15 significant digits first.
            return nat == NativeKind.FLOAT ? v + "::float8::text::numeric" : v + "::numeric";
        }

        private String trimmedDecimal(String asText, Facts facts, String v) {
            return facts.trimScale() ? "trim_scale(" + v + ")::text" : stripZeros(asText);
        }

        private String text(NativeKind nat, String v) {
            return switch (nat) {
                case TEXT -> v;
                case FIXED_TEXT -> "rtrim(" + v + ")";
                default -> v + "::text";
            };
        }

        @Override
        String encode(String value, boolean lengthPrefixed, boolean nullable, Facts facts) {
            String bytes = facts.utf8() ? "octet_length(" + value + ")" : "octet_length(convert_to(" + value + ", 'UTF8'))";
            return orNull(lengthPrefixed ? bytes + "::text || ':' || " + value : value, nullable);
        }

        @Override
        String join(List<String> encoded) {
            return String.join(" || '|' || ", encoded);
        }

        @Override
        String hash(String canonical, Facts facts, RowHash hash) {
            if (hash == RowHash.POSTGRES_HASHTEXT) {
                // COLLATE "C": a nondeterministic collation would hash its sort key, equal for 'a' and 'A'.
                return "hashtextextended((" + canonical + ") COLLATE \"C\", 0)";
            }
            String md5 = facts.utf8() ? "md5(" + canonical + ")" : "md5(convert_to(" + canonical + ", 'UTF8'))";
            return "('x' || substr(" + md5 + ", 1, 15))::bit(60)::bigint";
        }

        @Override
        String maxKey(String key, NativeKind nat) {
            // PostgreSQL has no max(uuid); the text form of a uuid sorts like the uuid.
            return nat == NativeKind.UUID ? "CAST(MAX(CAST(" + key + " AS text)) AS uuid)" : "MAX(" + key + ")";
        }

        @Override
        Facts facts(Connection c, int floatScale) throws SQLException {
            String encoding = scalar(c, "SELECT current_setting('server_encoding')");
            int major = c.getMetaData().getDatabaseMajorVersion();
            return new Facts("UTF8".equalsIgnoreCase(encoding), major >= 13, floatScale, major);
        }

        @Override
        String estimateRowsSql() {
            return "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = to_regclass(?)";
        }
    },

    MARIADB {
        @Override
        String quote(String identifier) {
            return '`' + identifier + '`';
        }

        @Override
        String render(PairKind pair, NativeKind nat, String v, Facts facts) {
            return switch (pair) {
                case NUMBER -> nat == NativeKind.DECIMAL ? stripZeros("CAST(" + v + " AS CHAR)") : "CAST(" + v + " AS CHAR)";
                case FLOAT -> stripZeros("CAST(" + (nat == NativeKind.FLOAT ? "CAST(" + v + " AS DOUBLE)" : v)
                        + " AS DECIMAL(65, " + facts.floatScale() + "))");
                case BOOLEAN -> numericFlag(v);
                case TIMESTAMP -> trimFraction("DATE_FORMAT(" + (nat == NativeKind.TIMESTAMP_UTC
                        // A TIMESTAMP is an instant shown in the session's time zone; its epoch is not.
                        ? "TIMESTAMPADD(MICROSECOND, ROUND(UNIX_TIMESTAMP(" + v + ") * 1000000), TIMESTAMP'1970-01-01 00:00:00')"
                        : v) + ", '%Y-%m-%d %H:%i:%s.%f')");
                case DATE -> "DATE_FORMAT(" + v + ", '%Y-%m-%d')";
                case BINARY -> "LOWER(HEX(" + v + "))";
                case UUID -> "LOWER(" + text(nat, v) + ")";
                case TEXT -> text(nat, v);
            };
        }

        private String text(NativeKind nat, String v) {
            return switch (nat) {
                case TEXT -> "CONVERT(" + v + " USING utf8mb4)";
                case FIXED_TEXT -> "CONVERT(RTRIM(" + v + ") USING utf8mb4)";
                default -> "CONVERT(CAST(" + v + " AS CHAR) USING utf8mb4)";
            };
        }

        @Override
        String encode(String value, boolean lengthPrefixed, boolean nullable, Facts facts) {
            return orNull(lengthPrefixed ? "CONCAT(OCTET_LENGTH(" + value + "), ':', " + value + ")" : value, nullable);
        }

        @Override
        String join(List<String> encoded) {
            return "CONCAT(" + String.join(", '|', ", encoded) + ")";
        }

        @Override
        String hash(String canonical, Facts facts, RowHash hash) {
            return "CAST(CONV(LEFT(MD5(CONVERT(" + canonical + " USING utf8mb4)), 15), 16, 10) AS UNSIGNED)";
        }

        @Override
        String maxKey(String key, NativeKind nat) {
            return "MAX(" + key + ")";
        }

        @Override
        Facts facts(Connection c, int floatScale) throws SQLException {
            return new Facts(true, false, floatScale, c.getMetaData().getDatabaseMajorVersion());
        }

        @Override
        String estimateRowsSql() {
            return "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) = ?";
        }
    },

    H2 {
        @Override
        String quote(String identifier) {
            return '"' + identifier + '"';
        }

        @Override
        String render(PairKind pair, NativeKind nat, String v, Facts facts) {
            return switch (pair) {
                case NUMBER -> nat == NativeKind.DECIMAL ? stripZeros("CAST(" + v + " AS VARCHAR)") : "CAST(" + v + " AS VARCHAR)";
                case FLOAT -> stripZeros("CAST(" + (nat == NativeKind.FLOAT ? "CAST(" + v + " AS DOUBLE PRECISION)" : v)
                        + " AS NUMERIC(100, " + facts.floatScale() + "))");
                case BOOLEAN -> nat == NativeKind.BOOLEAN ? "CASE WHEN " + v + " THEN '1' WHEN NOT " + v + " THEN '0' END"
                        : numericFlag(v);
                case TIMESTAMP -> trimFraction(nat == NativeKind.TIMESTAMP_UTC
                        ? "FORMATDATETIME(" + v + ", 'yyyy-MM-dd HH:mm:ss.SSSSSS', 'en', 'UTC')"
                        : "FORMATDATETIME(" + v + ", 'yyyy-MM-dd HH:mm:ss.SSSSSS')");
                case DATE -> "FORMATDATETIME(" + v + ", 'yyyy-MM-dd')";
                case BINARY -> "LOWER(RAWTOHEX(" + v + "))";
                case UUID -> nat == NativeKind.UUID ? "CAST(" + v + " AS VARCHAR)" : "LOWER(" + text(nat, v) + ")";
                case TEXT -> text(nat, v);
            };
        }

        private String text(NativeKind nat, String v) {
            return switch (nat) {
                case TEXT -> "CAST(" + v + " AS VARCHAR)";
                case FIXED_TEXT -> "RTRIM(" + v + ")";
                default -> "CAST(" + v + " AS VARCHAR)";
            };
        }

        @Override
        String encode(String value, boolean lengthPrefixed, boolean nullable, Facts facts) {
            // OCTET_LENGTH of a character string is its UTF-8 length in H2, like PostgreSQL's in a UTF8 database.
            return orNull(lengthPrefixed ? "CAST(OCTET_LENGTH(" + value + ") AS VARCHAR) || ':' || " + value : value, nullable);
        }

        @Override
        String join(List<String> encoded) {
            return String.join(" || '|' || ", encoded);
        }

        @Override
        String hash(String canonical, Facts facts, RowHash hash) {
            // HASH takes a character string as UTF-8; the digest's first 8 bytes as BIGINT, shifted to 60 bits.
            return "URSHIFT(CAST(SUBSTRING(HASH('MD5', " + canonical + ") FROM 1 FOR 8) AS BIGINT), 4)";
        }

        @Override
        String maxKey(String key, NativeKind nat) {
            return "MAX(" + key + ")";
        }

        @Override
        Facts facts(Connection c, int floatScale) throws SQLException {
            return new Facts(true, false, floatScale, c.getMetaData().getDatabaseMajorVersion());
        }

        @Override
        String estimateRowsSql() {
            return "SELECT ROW_COUNT_ESTIMATE FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA || '.' || TABLE_NAME = ?";
        }
    };

    /** What this database instance can do, read once per diff. */
    public record Facts(boolean utf8, boolean trimScale, int floatScale, int majorVersion) {}

    /** The row hash both sides compute. */
    public enum RowHash {
        /** The first 60 bits of MD5: the digest all three databases have. */
        MD5,
        /**
         * PostgreSQL's own 64-bit text hash, when both sides are PostgreSQL of one major version in UTF8:
         * the same function on the same bytes, at a third of MD5's cost (measured on the bench's rows).
         */
        POSTGRES_HASHTEXT;

        static RowHash between(VerifyDialect source, Facts sourceFacts, VerifyDialect copy, Facts copyFacts) {
            boolean samePostgres = source == POSTGRES && copy == POSTGRES && sourceFacts.utf8() && copyFacts.utf8()
                    && sourceFacts.majorVersion() == copyFacts.majorVersion();
            return samePostgres ? POSTGRES_HASHTEXT : MD5;
        }
    }

    abstract String quote(String identifier);

    /** The value of column {@code v} (quoted) as the text of {@code pair}; NULL stays NULL. */
    abstract String render(PairKind pair, NativeKind nat, String v, Facts facts);

    /**
     * {@code value} as a part of the canonical row string (never NULL). A value of a NOT NULL column
     * needs no NULL marker: every rendering is NULL only for a NULL value (it saves a sixth of the hashing).
     */
    abstract String encode(String value, boolean lengthPrefixed, boolean nullable, Facts facts);

    /** The canonical row string from its encoded parts. */
    abstract String join(List<String> encoded);

    /**
     * The row's hash as a BIGINT: with {@link RowHash#MD5} non-negative, below 2^60, the first 60 bits of
     * MD5 of the UTF-8 bytes of {@code canonical}.
     */
    abstract String hash(String canonical, Facts facts, RowHash hash);

    /** The aggregate giving the greatest key of a group. */
    abstract String maxKey(String key, NativeKind nat);

    /** Integer division of two integer expressions ({@code DIV} on MariaDB, where {@code /} gives a decimal). */
    String integerDivision(String dividend, String divisor) {
        return this == MARIADB ? "(" + dividend + ") DIV " + divisor : "(" + dividend + ") / " + divisor;
    }

    abstract Facts facts(Connection c, int floatScale) throws SQLException;

    /** Param: schema.table as the catalog spells it. Column: an estimate of the rows, for progress. */
    abstract String estimateRowsSql();

    /** The dialect of an open connection, from its metadata. */
    public static VerifyDialect of(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("postgres")) {
            return POSTGRES;
        }
        if (product.contains("mariadb") || product.contains("mysql")) {
            return MARIADB;
        }
        if (product.equals("h2")) {
            return H2;
        }
        throw new ConfigException("verify supports PostgreSQL, MariaDB/MySQL and H2, but the connection is to "
                + c.getMetaData().getDatabaseProductName());
    }

    static String orNull(String encoded, boolean nullable) {
        return nullable ? "COALESCE(" + encoded + ", 'N')" : encoded;
    }

    /** {@code 5.500} to {@code 5.5}, {@code 5.00} to {@code 5}; text without a point is left alone. */
    static String stripZeros(String text) {
        return "CASE WHEN " + text + " LIKE '%.%' THEN TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM " + text
                + ")) ELSE " + text + " END";
    }

    /** {@code ...:05.120000} to {@code ...:05.12}, {@code ...:05.000000} to {@code ...:05}: PostgreSQL's ISO form. */
    static String trimFraction(String sixDigits) {
        return "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM " + sixDigits + "))";
    }

    /** A number as a flag: non-zero is {@code 1}, NULL stays NULL. */
    static String numericFlag(String v) {
        return "CASE WHEN " + v + " <> 0 THEN '1' WHEN " + v + " = 0 THEN '0' END";
    }

    static String scalar(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); var rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
