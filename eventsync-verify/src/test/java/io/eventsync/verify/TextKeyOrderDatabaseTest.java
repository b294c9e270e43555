package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestDatabase.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Text keys: ranges are the databases' own, so they mean the same on both sides only when both sort
 * the keys alike. PostgreSQL here sorts by code point (C collation); MariaDB's default collation
 * ignores case. The diff must either be exact or refuse, never miscount.
 */
@Tag("database")
class TextKeyOrderDatabaseTest {
    private static final TableProjection CODES = TableProjection.of("codes", "code", "label");

    @Test
    void keysBothSidesSortAlikeCompareAcrossCollations() throws Exception {
        try (TestDatabase source = TestDatabase.create(Kind.POSTGRES); TestDatabase copy = TestDatabase.create(Kind.MARIADB)) {
            source.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT)");
            copy.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT) DEFAULT CHARSET=utf8mb4"
                    + " COLLATE utf8mb4_general_ci");
            insertCodes(source, "k", 600);
            insertCodes(copy, "k", 600);
            copy.execute("UPDATE codes SET label = 'other' WHERE code = 'k00321'");

            DiffReport report = compare(source, copy);

            assertThat(report.differences()).extracting(KeyDifference::key).containsExactly("k00321");
            assertThat(report.differingKeys()).isEqualTo(1);
        }
    }

    @Test
    void keysSortedDifferentlyAreRefusedWithTheKeysNamed() throws Exception {
        try (TestDatabase source = TestDatabase.create(Kind.POSTGRES); TestDatabase copy = TestDatabase.create(Kind.MARIADB)) {
            source.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT)");
            copy.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT) DEFAULT CHARSET=utf8mb4"
                    + " COLLATE utf8mb4_general_ci");
            for (TestDatabase db : new TestDatabase[] {source, copy}) {
                // By code point: B < D < a < c; ignoring case: a < B < c < D.
                db.execute("INSERT INTO codes VALUES ('a', '1'), ('B', '2'), ('c', '3'), ('D', '4')");
            }

            assertThatThrownBy(() -> compare(source, copy))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("sort key values differently")
                    .hasMessageContaining("COLLATE utf8mb4_bin");
        }
    }

    @Test
    void aBinaryCollationOnTheCopyMakesMixedCaseKeysExact() throws Exception {
        try (TestDatabase source = TestDatabase.create(Kind.POSTGRES); TestDatabase copy = TestDatabase.create(Kind.MARIADB)) {
            source.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT)");
            copy.execute("CREATE TABLE codes (code VARCHAR(40) PRIMARY KEY, label TEXT) DEFAULT CHARSET=utf8mb4"
                    + " COLLATE utf8mb4_bin");
            for (TestDatabase db : new TestDatabase[] {source, copy}) {
                db.execute("INSERT INTO codes VALUES ('a', '1'), ('B', '2'), ('c', '3'), ('D', '4'), ('_x', '5'), ('Z_', '6')");
            }
            copy.execute("UPDATE codes SET label = 'other' WHERE code = 'c'");

            DiffReport report = compare(source, copy);

            assertThat(report.differences()).extracting(KeyDifference::key).containsExactly("c");
        }
    }

    private static void insertCodes(TestDatabase db, String prefix, int n) {
        StringBuilder sql = new StringBuilder("INSERT INTO codes VALUES ");
        for (int i = 0; i < n; i++) {
            sql.append(i == 0 ? "" : ", ").append(String.format("('%s%05d', 'label %d')", prefix, i, i));
        }
        db.execute(sql.toString());
    }

    private static DiffReport compare(TestDatabase source, TestDatabase copy) throws SQLException {
        try (Connection s = source.dataSource().getConnection(); Connection c = copy.dataSource().getConnection()) {
            return TableDiff.builder().chunkSize(2).leafRows(1).fanout(2).build().compare("codes", s, CODES, c, CODES);
        }
    }
}
