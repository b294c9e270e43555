package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.Position;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What {@code eventsync verify} needs from the JDBC module: a key's pending outbox position, and
 * repairs under the copy table's version guard and tombstones (never over a newer version).
 */
@Tag("database")
class CopyRepairDatabaseTest {

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void pendingPositionIsTheKeysLatestEventStillInTheOutbox(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            Outbox outbox = Outbox.of("shop", db.names());
            try (Connection c = db.dataSource().getConnection()) {
                assertThat(outbox.pendingPosition(c, "o1")).isEmpty();
                outbox.append(c, TestEvents.event("shop", "o1", 1));
                outbox.append(c, TestEvents.event("shop", "o2", 1));
                Position latest = outbox.append(c, TestEvents.event("shop", "o1", 2));

                assertThat(outbox.pendingPosition(c, "o1")).isEqualTo(Optional.of(latest));
                assertThat(Outbox.of("other", db.names()).pendingPosition(c, "o1")).isEmpty();
                String q = db.kind() == TestDatabase.Kind.MARIADB ? "`" : "\"";
                db.execute("DELETE FROM " + q + db.names().schema() + q + "." + q + db.names().prefix() + "outbox" + q);
                assertThat(outbox.pendingPosition(c, "o1")).as("relayed: nothing pending").isEmpty();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void aRepairRewritesTheSameVersionButNeverANewerOneOrANewerDeletion(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            db.execute("CREATE TABLE accounts_copy (account_id VARCHAR(40) PRIMARY KEY, balance_cents BIGINT,"
                    + " version BIGINT NOT NULL)");
            db.execute("INSERT INTO accounts_copy VALUES ('same', 0, 3), ('newer', 99, 9), ('gone', 5, 4)");
            CopyRepair repair = CopyRepair.of(kind == TestDatabase.Kind.H2 ? "ACCOUNTS_COPY" : "accounts_copy",
                    List.of(kind == TestDatabase.Kind.H2 ? "ACCOUNT_ID" : "account_id"),
                    kind == TestDatabase.Kind.H2 ? "VERSION" : "version", db.names());
            String balance = kind == TestDatabase.Kind.H2 ? "BALANCE_CENTS" : "balance_cents";
            try (Connection c = db.dataSource().getConnection()) {
                assertThat(repair.upsert(c, List.of("same"), Map.of(balance, 30L), 3).changed()).isTrue();
                CopyRepair.Change kept = repair.upsert(c, List.of("newer"), Map.of(balance, 30L), 3);
                assertThat(kept.changed()).isFalse();
                assertThat(kept.detail()).contains("holds version 9");
                assertThat(repair.delete(c, List.of("gone"), 4).changed()).isTrue();
                assertThat(repair.upsert(c, List.of("gone"), Map.of(balance, 1L), 3).detail())
                        .as("deleted at version 4: a version-3 row does not come back").contains("deleted it at version 4");
                assertThat(repair.upsert(c, List.of("new"), Map.of(balance, 7L), 1).detail()).isEqualTo("inserted at version 1");
                assertThat(repair.delete(c, List.of("newer"), 8).changed()).as("the copy moved on to 9").isFalse();
            }
            assertThat(rows(db)).containsExactly("new,7,1", "newer,99,9", "same,30,3");
        }
    }

    private static List<String> rows(TestDatabase db) throws Exception {
        List<String> rows = new java.util.ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT account_id, balance_cents, version FROM accounts_copy ORDER BY account_id")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "," + rs.getLong(2) + "," + rs.getLong(3));
            }
        }
        return rows;
    }
}
