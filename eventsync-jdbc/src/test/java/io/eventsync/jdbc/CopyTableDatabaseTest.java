package io.eventsync.jdbc;

import static io.eventsync.jdbc.Accounts.account;
import static io.eventsync.jdbc.Accounts.event;
import static io.eventsync.jdbc.Accounts.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Copy tables with a version guard on real PostgreSQL, MariaDB and H2 (file mode). */
@Tag("database")
class CopyTableDatabaseTest {
    private static final String SUB = "copies";

    private static Outcome apply(JdbcApplyScope scope, CopyTable copy, Message payload, Envelope e) throws Exception {
        return scope.apply(new TestInvocation(SUB, e, payload, copy.handler()));
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void onlyDeclaredFieldsAreStored(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).build()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            copy.createTable(db.dataSource()); // idempotent
            AccountChanged a = account("a1", 250);
            assertThat(apply(scope, copy, a, event(a, 1, 1))).isEqualTo(Outcome.applied());

            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT * FROM accounts_copy")) {
                ResultSetMetaData md = rs.getMetaData();
                List<String> columns = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    columns.add(md.getColumnName(i).toLowerCase());
                }
                assertThat(columns).containsExactly("account_id", "balance_cents", "owner_name", "active", "opened",
                        "status", "version");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString("account_id")).isEqualTo("a1");
                assertThat(rs.getLong("balance_cents")).isEqualTo(250);
                assertThat(rs.getString("owner_name")).isEqualTo("Owner a1");
                assertThat(rs.getBoolean("active")).isTrue();
                assertThat(rs.getTimestamp("opened").toInstant().getEpochSecond()).isEqualTo(1_700_000_000L);
                assertThat(rs.getString("status")).isEqualTo("OPEN");
                assertThat(rs.getLong("version")).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void olderOrEqualVersionIsSkippedAsStale(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).build()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            assertThat(apply(scope, copy, account("a1", 3), event(account("a1", 3), 3, 3))).isEqualTo(Outcome.applied());

            Outcome older = apply(scope, copy, account("a1", 2), event(account("a1", 2), 2, 2));
            Outcome equal = apply(scope, copy, account("a1", 99), event(account("a1", 99), 3, 4));

            assertThat(older).isEqualTo(Outcome.skipped("stale: version 2 <= 3 stored in accounts_copy"));
            assertThat(((Outcome.Skipped) equal).reason()).startsWith("stale: version 3 <= 3");
            assertThat(db.count("SELECT balance_cents FROM accounts_copy")).isEqualTo(3);
            // Skipped events are still recorded, so their redeliveries are duplicates.
            assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(3);

            assertThat(apply(scope, copy, account("a1", 4), event(account("a1", 4), 4, 5))).isEqualTo(Outcome.applied());
            assertThat(db.count("SELECT balance_cents FROM accounts_copy")).isEqualTo(4);
            assertThat(db.count("SELECT version FROM accounts_copy")).isEqualTo(4);
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void tombstoneDeletesAndAnOlderEventCannotBringTheRowBack(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).build()) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(db.dataSource());
            AccountChanged a = account("a1", 10);
            apply(scope, copy, a, event(a, 1, 1));
            assertThat(apply(scope, copy, a, tombstone(a, 3, 3))).isEqualTo(Outcome.applied());
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

            Outcome late = apply(scope, copy, account("a1", 20), event(account("a1", 20), 2, 2));
            assertThat(((Outcome.Skipped) late).reason()).startsWith("stale: version 2 <= 3 deleted");
            assertThat(db.count("SELECT COUNT(*) FROM accounts_copy")).isZero();

            assertThat(apply(scope, copy, account("a1", 30), event(account("a1", 30), 4, 4))).isEqualTo(Outcome.applied());
            assertThat(db.count("SELECT balance_cents FROM accounts_copy")).isEqualTo(30);
            assertThat(db.count("SELECT COUNT(*) FROM eventsync_copy_tombstones")).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void dynamicMessagePayloadsAreCopiedLikeGeneratedOnes(TestDb.Kind kind) throws Exception {
        try (TestDb db = TestDb.create(kind).withConsumerTables();
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).build()).build()) {
            CopyTable copy = CopyTable.builder(AccountChanged.getDescriptor(), "by_subject")
                    .keyFromSubject("id")
                    .column("balance", "balance_cents")
                    .build();
            copy.createTable(db.dataSource());
            AccountChanged a = account("d1", 77);
            DynamicMessage dynamic = DynamicMessage.parseFrom(AccountChanged.getDescriptor(), a.toByteString());
            assertThat(apply(scope, copy, dynamic, event(a, 1, 1))).isEqualTo(Outcome.applied());
            assertThat(db.count("SELECT balance FROM by_subject WHERE id = 'd1'")).isEqualTo(77);
        }
    }

    @Test
    void declarationErrorsNameTheFieldAndValue() {
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "bad;drop").keyFromSubject("id").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("table").hasMessageContaining("bad;drop");
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "t").key("id", "no_such_field"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("no_such_field");
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "t").column("owner"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("owner.id");
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "t").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("key column");
        assertThatThrownBy(() -> CopyTable.builder(AccountChanged.getDescriptor(), "t").keyFromSubject("version").build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("twice");
    }
}
