package io.eventsync.verify;

import io.eventsync.jdbc.TestDatabase;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * A table with a column of every kind verify normalizes, created with each dialect's own types (so
 * the same values are stored as different types on different sides), and rows generated from the key.
 */
final class WideTable {
    static final String NAME = "wide";
    static final String[] COLUMNS = {"name", "code", "amount", "ratio", "active", "placed_at", "due", "payload", "note", "ref"};

    private WideTable() {}

    static TableProjection projection() {
        return TableProjection.of(NAME, "id", COLUMNS);
    }

    /** {@code decimals}: the scale of {@code amount}, so that two sides can differ in it. */
    static void create(TestDatabase db, int decimals) {
        db.execute(switch (db.kind()) {
            case POSTGRES -> "CREATE TABLE wide (id BIGINT PRIMARY KEY, name VARCHAR(100), code CHAR(8),"
                    + " amount NUMERIC(14, " + decimals + "), ratio DOUBLE PRECISION, active BOOLEAN, placed_at TIMESTAMPTZ,"
                    + " due DATE, payload BYTEA, note TEXT, ref UUID, version BIGINT NOT NULL)";
            // NOT NULL here only: a value hashes the same whether its column may be NULL or not.
            case MARIADB -> "CREATE TABLE wide (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, code CHAR(8) NOT NULL,"
                    + " amount DECIMAL(14, " + decimals + "), ratio DOUBLE, active BOOLEAN, placed_at DATETIME(6),"
                    + " due DATE, payload VARBINARY(100), note TEXT, ref CHAR(36), version BIGINT NOT NULL)"
                    + " DEFAULT CHARSET=utf8mb4";
            case H2 -> "CREATE TABLE wide (id BIGINT PRIMARY KEY, name VARCHAR(100), code CHAR(8),"
                    + " amount NUMERIC(14, " + decimals + "), ratio DOUBLE PRECISION, active BOOLEAN,"
                    + " placed_at TIMESTAMP(6) WITH TIME ZONE, due DATE, payload VARBINARY(100), note VARCHAR(200), ref UUID,"
                    + " version BIGINT NOT NULL)";
        });
    }

    /** Inserts the rows of keys {@code from..to} (inclusive). */
    static void insert(TestDatabase db, long from, long to) throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO wide (id, name, code, amount, ratio, active,"
                    + " placed_at, due, payload, note, ref, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (long id = from; id <= to; id++) {
                    ps.setLong(1, id);
                    ps.setString(2, name(id));
                    ps.setString(3, "c" + (id % 1000));
                    ps.setBigDecimal(4, BigDecimal.valueOf(id * 25, 2)); // 0.25 steps: 12.50 ends in a zero
                    ps.setDouble(5, id / 3.0);
                    ps.setBoolean(6, id % 2 == 0);
                    setTimestamp(db, ps, 7, placedAt(id));
                    ps.setObject(8, LocalDate.of(2026, 1, 1).plusDays(id % 365));
                    ps.setBytes(9, ("p" + id).getBytes(StandardCharsets.UTF_8));
                    ps.setString(10, id % 7 == 0 ? null : id % 7 == 1 ? "" : "note " + id);
                    setUuid(db, ps, 11, ref(id));
                    ps.setLong(12, 1);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
    }

    /** Unicode, a separator and a colon: text must hash the same as UTF-8 on every side. */
    static String name(long id) {
        return "n" + id + (id % 3 == 0 ? " é|😀:" : "");
    }

    static Instant placedAt(long id) {
        return Instant.parse("2026-06-01T10:00:00Z").plusSeconds(id * 61).plusNanos((id % 1000) * 1000);
    }

    static UUID ref(long id) {
        return new UUID(0x1234_5678_9abc_def0L, id);
    }

    static void setTimestamp(TestDatabase db, PreparedStatement ps, int i, Instant t) throws SQLException {
        if (db.kind() == TestDatabase.Kind.MARIADB) {
            ps.setObject(i, LocalDateTime.ofInstant(t, ZoneOffset.UTC)); // DATETIME: the UTC wall time
        } else {
            ps.setObject(i, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
        }
    }

    static void setUuid(TestDatabase db, PreparedStatement ps, int i, UUID u) throws SQLException {
        if (db.kind() == TestDatabase.Kind.MARIADB) {
            ps.setString(i, u.toString());
        } else {
            ps.setObject(i, u);
        }
    }
}
