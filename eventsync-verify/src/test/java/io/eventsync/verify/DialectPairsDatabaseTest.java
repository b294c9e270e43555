package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestDatabase.Kind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every pair of dialects (source -> copy) on the real PostgreSQL, MariaDB and H2: the same values
 * stored as each database's own types hash the same, and every kind of difference is found exactly,
 * with the values of both sides.
 */
@Tag("database")
class DialectPairsDatabaseTest {
    private static final int ROWS = 2_000;

    static Stream<Arguments> pairs() {
        List<Arguments> pairs = new ArrayList<>();
        for (Kind source : Kind.values()) {
            for (Kind copy : Kind.values()) {
                pairs.add(Arguments.of(source, copy));
            }
        }
        return pairs.stream();
    }

    /** Small chunks and leaves, so that chunking and bisection at several levels all take part. */
    private static TableDiff diff() {
        return TableDiff.builder().chunkSize(300).leafRows(16).fanout(4).reportAtMost(50).build();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void equalTablesMatchWithoutReadingRowsAndEveryKindOfDifferenceIsFoundWithBothValues(Kind sourceKind, Kind copyKind)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceKind); TestDatabase copy = TestDatabase.create(copyKind)) {
            WideTable.create(source, 2);
            WideTable.create(copy, 4); // another scale: numbers compare by value
            WideTable.insert(source, 1, ROWS);
            WideTable.insert(copy, 1, ROWS);

            DiffReport equal = compare(source, copy);

            assertThat(equal.verdict()).isEqualTo("MATCH");
            assertThat(equal.sourceRows()).isEqualTo(ROWS);
            assertThat(equal.copyRows()).isEqualTo(ROWS);
            assertThat(equal.work().rowsFetched()).as("equal checksums: no row is read").isZero();
            assertThat(equal.work().ranges()).isEqualTo(ROWS / 300 + 1);

            WideTable.insert(copy, ROWS + 1, ROWS + 1); // 2001 only in the copy
            copy.execute("DELETE FROM wide WHERE id = 101");
            copy.execute("UPDATE wide SET name = 'n201 é|😀;' WHERE id = 201");
            copy.execute("UPDATE wide SET code = 'c303x' WHERE id = 303");
            copy.execute("UPDATE wide SET amount = amount + 0.01 WHERE id = 404");
            copy.execute("UPDATE wide SET ratio = ratio + 0.5 WHERE id = 505");
            copy.execute("UPDATE wide SET active = NOT active WHERE id = 606");
            setPlacedAt(copy, 707, WideTable.placedAt(707).plusNanos(1_000));
            copy.execute("UPDATE wide SET due = due + INTERVAL '1' DAY WHERE id = 808");
            copy.execute("UPDATE wide SET payload = " + binary(copy, "7839") + " WHERE id = 909");
            copy.execute("UPDATE wide SET note = '' WHERE id = 1008"); // NULL in the source (1008 % 7 == 0)
            copy.execute("UPDATE wide SET note = NULL WHERE id = 1107"); // '' in the source (1107 % 7 == 1)
            copy.execute("UPDATE wide SET ref = " + uuid(copy, "00000000-0000-0000-0000-000000000001") + " WHERE id = 1206");

            DiffReport report = compare(source, copy);

            assertThat(report.differingKeys()).isEqualTo(13);
            Map<String, KeyDifference> byKey = new java.util.HashMap<>();
            report.differences().forEach(d -> byKey.put(d.key(), d));
            assertThat(byKey).containsOnlyKeys("101", "2001", "201", "303", "404", "505", "606", "707", "808", "909",
                    "1008", "1107", "1206");
            assertThat(byKey.get("101").kind()).isEqualTo(KeyDifference.Kind.MISSING_IN_COPY);
            assertThat(byKey.get("101").source()).containsEntry("name", "n101");
            assertThat(byKey.get("2001").kind()).isEqualTo(KeyDifference.Kind.EXTRA_IN_COPY);
            assertThat(byKey.get("2001").copy()).containsEntry("note", "note 2001");
            assertDiffers(byKey.get("201"), "name", "n201 é|😀:", "n201 é|😀;");
            assertDiffers(byKey.get("303"), "code", "c303", "c303x");
            assertDiffers(byKey.get("404"), "amount", "101", "101.01");
            assertDiffers(byKey.get("505"), "ratio", "168.333333", "168.833333");
            assertDiffers(byKey.get("606"), "active", "1", "0");
            assertDiffers(byKey.get("707"), "placed_at", "2026-06-01 21:58:47.000707", "2026-06-01 21:58:47.000708");
            assertDiffers(byKey.get("808"), "due", "2026-03-20", "2026-03-21");
            assertDiffers(byKey.get("909"), "payload", "70393039", "7839");
            assertDiffers(byKey.get("1008"), "note", null, "");
            assertDiffers(byKey.get("1107"), "note", "", null);
            assertDiffers(byKey.get("1206"), "ref", WideTable.ref(1206).toString(), "00000000-0000-0000-0000-000000000001");
            assertThat(report.work().rowsFetched()).as("only the differing ranges are read").isLessThan(ROWS / 2);
        }
    }

    private static void assertDiffers(KeyDifference d, String column, String sourceValue, String copyValue) {
        assertThat(d.kind()).as(d.toString()).isEqualTo(KeyDifference.Kind.VALUES_DIFFER);
        assertThat(d.source().get(column)).as("source " + column + " of " + d.key()).isEqualTo(sourceValue);
        assertThat(d.copy().get(column)).as("copy " + column + " of " + d.key()).isEqualTo(copyValue);
        for (String other : WideTable.COLUMNS) {
            if (!other.equals(column)) {
                assertThat(d.copy().get(other)).as(other + " of " + d.key()).isEqualTo(d.source().get(other));
            }
        }
    }

    private static DiffReport compare(TestDatabase source, TestDatabase copy) throws SQLException {
        try (Connection s = source.dataSource().getConnection(); Connection c = copy.dataSource().getConnection()) {
            return diff().compare("wide", s, WideTable.projection(), c, WideTable.projection());
        }
    }

    private static void setPlacedAt(TestDatabase db, long id, java.time.Instant t) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE wide SET placed_at = ? WHERE id = ?")) {
            WideTable.setTimestamp(db, ps, 1, t);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    private static String binary(TestDatabase db, String hex) {
        return db.kind() == Kind.POSTGRES ? "'\\x" + hex + "'::bytea" : "X'" + hex + "'";
    }

    private static String uuid(TestDatabase db, String text) {
        return db.kind() == Kind.POSTGRES ? "'" + text + "'::uuid" : "'" + text + "'";
    }
}
