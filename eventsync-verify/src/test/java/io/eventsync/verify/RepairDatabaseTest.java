package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestDatabase.Kind;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Repair through the copy table's version guard and tombstones: a dry run changes nothing; applied, it
 * makes the copy equal to the source for the differing keys and never overwrites (or brings back) what
 * the copy holds at a newer version.
 */
@Tag("database")
class RepairDatabaseTest {
    private static final TableProjection SOURCE = TableProjection.of("accounts", "id", "owner", "balance", "version");
    private static final TableProjection COPY = TableProjection.of("accounts_copy", "account_id", "owner", "balance_cents",
            "version");

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"POSTGRES, MARIADB", "H2, POSTGRES", "MARIADB, H2"})
    void aDryRunChangesNothingAndApplyRepairsEveryKeyButTheNewerOnes(Kind sourceKind, Kind copyKind) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceKind); TestDatabase copy = TestDatabase.create(copyKind)) {
            source.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100), balance BIGINT,"
                    + " version BIGINT NOT NULL)");
            copy.execute("CREATE TABLE accounts_copy (account_id BIGINT PRIMARY KEY, owner VARCHAR(100),"
                    + " balance_cents BIGINT, version BIGINT NOT NULL)");
            StringBuilder rows = new StringBuilder();
            for (int id = 1; id <= 200; id++) {
                rows.append(id == 1 ? "" : ", ").append("(").append(id).append(", 'owner ").append(id).append("', ")
                        .append(id * 10).append(", 3)");
            }
            source.execute("INSERT INTO accounts VALUES " + rows);
            copy.execute("INSERT INTO accounts_copy VALUES " + rows);
            copy.execute("UPDATE accounts_copy SET balance_cents = 0 WHERE account_id = 11"); // behind eventsync's back
            copy.execute("DELETE FROM accounts_copy WHERE account_id = 22");                  // lost
            copy.execute("INSERT INTO accounts_copy VALUES (333, 'gone', 1, 4)");             // deleted at the source
            copy.execute("UPDATE accounts_copy SET owner = 'newer', version = 9 WHERE account_id = 44"); // a newer event
            copy.execute("DELETE FROM accounts_copy WHERE account_id = 55");                  // ...deleted at version 9
            copy.execute("INSERT INTO " + tombstones(copy) + " (copy_table, row_key, version) VALUES ("
                    + "'" + copyTableName(copy) + "', '2:55', 9)");
            copy.execute("UPDATE accounts_copy SET balance_cents = 1, version = 1 WHERE account_id = 66"); // behind
            List<String> before = snapshot(copy);

            DiffReport dryRun = compare(source, copy, TableDiff.Repair.DRY_RUN);

            assertThat(dryRun.differences()).extracting(KeyDifference::key, KeyDifference::kind).containsExactly(
                    tuple("11", KeyDifference.Kind.VALUES_DIFFER), tuple("22", KeyDifference.Kind.MISSING_IN_COPY),
                    tuple("333", KeyDifference.Kind.EXTRA_IN_COPY), tuple("44", KeyDifference.Kind.VALUES_DIFFER),
                    tuple("55", KeyDifference.Kind.MISSING_IN_COPY), tuple("66", KeyDifference.Kind.VALUES_DIFFER));
            assertThat(dryRun.repairs().mode()).isEqualTo(TableDiff.Repair.DRY_RUN);
            assertThat(dryRun.repairs().keys()).extracting(KeyRepair::key, KeyRepair::outcome).containsExactlyInAnyOrder(
                    tuple("11", KeyRepair.Outcome.WOULD_CHANGE), tuple("22", KeyRepair.Outcome.WOULD_CHANGE),
                    tuple("333", KeyRepair.Outcome.WOULD_CHANGE), tuple("44", KeyRepair.Outcome.KEPT),
                    tuple("55", KeyRepair.Outcome.KEPT), tuple("66", KeyRepair.Outcome.WOULD_CHANGE));
            assertThat(snapshot(copy)).as("a dry run writes nothing").isEqualTo(before);

            DiffReport applied = compare(source, copy, TableDiff.Repair.APPLY);

            assertThat(applied.repairs().changed()).isEqualTo(4);
            assertThat(applied.repairs().kept()).isEqualTo(2);
            assertThat(applied.repairs().keys()).extracting(KeyRepair::key, KeyRepair::action, KeyRepair::outcome)
                    .containsExactlyInAnyOrder(
                            tuple("11", KeyRepair.Action.UPSERT, KeyRepair.Outcome.CHANGED),
                            tuple("22", KeyRepair.Action.UPSERT, KeyRepair.Outcome.CHANGED),
                            tuple("333", KeyRepair.Action.DELETE, KeyRepair.Outcome.CHANGED),
                            tuple("44", KeyRepair.Action.UPSERT, KeyRepair.Outcome.KEPT),
                            tuple("55", KeyRepair.Action.UPSERT, KeyRepair.Outcome.KEPT),
                            tuple("66", KeyRepair.Action.UPSERT, KeyRepair.Outcome.CHANGED));
            DiffReport after = compare(source, copy, TableDiff.Repair.NONE);
            assertThat(after.differences()).as("only what the copy holds at a newer version still differs")
                    .extracting(KeyDifference::key).containsExactly("44", "55");
            assertThat(query(copy, "SELECT owner, version FROM accounts_copy WHERE account_id = 44"))
                    .containsExactly("newer,9");
            assertThat(query(copy, "SELECT COUNT(*) FROM accounts_copy WHERE account_id = 55")).containsExactly("0");
            assertThat(query(copy, "SELECT version FROM " + tombstones(copy) + " WHERE row_key = '3:333'"))
                    .as("the deleted row is remembered at the version it was compared at").containsExactly("4");
            assertThat(query(copy, "SELECT balance_cents, version FROM accounts_copy WHERE account_id = 66"))
                    .containsExactly("660,3");
        }
    }

    private static DiffReport compare(TestDatabase source, TestDatabase copy, TableDiff.Repair mode) throws SQLException {
        TableDiff.Builder b = TableDiff.builder().chunkSize(50).leafRows(8).versionColumns("version", "version");
        if (mode != TableDiff.Repair.NONE) {
            b.repair(mode, copy.names());
        }
        try (Connection s = source.dataSource().getConnection(); Connection c = copy.dataSource().getConnection()) {
            return b.build().compare("accounts", s, SOURCE, c, COPY);
        }
    }

    /** The copy table's name as the database spells it (H2 folds unquoted names to upper case). */
    private static String copyTableName(TestDatabase db) {
        return db.kind() == Kind.H2 ? "ACCOUNTS_COPY" : "accounts_copy";
    }

    /** eventsync's tables are created with quoted lower-case names. */
    private static String tombstones(TestDatabase db) {
        return db.kind() == Kind.MARIADB ? "eventsync_copy_tombstones" : "\"eventsync_copy_tombstones\"";
    }

    private static List<String> snapshot(TestDatabase db) throws SQLException {
        List<String> all = new ArrayList<>(query(db, "SELECT account_id, owner, balance_cents, version FROM accounts_copy"
                + " ORDER BY account_id"));
        all.addAll(query(db, "SELECT copy_table, row_key, version FROM " + tombstones(db) + " ORDER BY row_key"));
        return all;
    }

    private static List<String> query(TestDatabase db, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    values.add(rs.getString(i));
                }
                rows.add(String.join(",", values));
            }
        }
        return rows;
    }
}
