package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TableDiffTest {
    private Connection source;
    private Connection copy;

    @BeforeEach
    void open() throws SQLException {
        source = DriverManager.getConnection("jdbc:h2:mem:src-" + UUID.randomUUID());
        copy = DriverManager.getConnection("jdbc:h2:mem:copy-" + UUID.randomUUID());
        exec(source, "CREATE TABLE orders (order_id VARCHAR(40) PRIMARY KEY, customer_id VARCHAR(40),"
                + " amount_cents BIGINT, status VARCHAR(20), note VARCHAR(100))");
        exec(copy, "CREATE TABLE billing_orders (id VARCHAR(40) PRIMARY KEY, customer VARCHAR(40),"
                + " amount DECIMAL(20,2), status VARCHAR(20))");
    }

    @AfterEach
    void close() throws SQLException {
        source.close();
        copy.close();
    }

    @Test
    void equalProjectionsMatchEvenWhenNumberTypesDiffer() throws SQLException {
        exec(source, "INSERT INTO orders VALUES ('o1', 'c1', 500, 'PAID', 'not copied'), ('o2', 'c2', 700, 'PLACED', null)");
        exec(copy, "INSERT INTO billing_orders VALUES ('o1', 'c1', 500.00, 'PAID'), ('o2', 'c2', 700, 'PLACED')");

        DiffReport report = diff();

        assertThat(report.matches()).isTrue();
        assertThat(report.verdict()).isEqualTo("MATCH");
        assertThat(report.sourceRows()).isEqualTo(2);
        assertThat(report.copyRows()).isEqualTo(2);
    }

    @Test
    void missingExtraAndChangedKeysAreReportedByKey() throws SQLException {
        exec(source, "INSERT INTO orders VALUES ('o1', 'c1', 500, 'PAID', null), ('o2', 'c2', 700, 'PLACED', null),"
                + " ('o3', 'c3', 900, 'PLACED', null)");
        exec(copy, "INSERT INTO billing_orders VALUES ('o1', 'c1', 500, 'PLACED'), ('o3', 'c3', 900, 'PLACED'),"
                + " ('o9', 'c9', 1, 'PAID')");

        DiffReport report = diff();

        assertThat(report.matches()).isFalse();
        assertThat(report.differingKeys()).isEqualTo(3);
        assertThat(report.differences()).extracting(KeyDifference::key, KeyDifference::kind).containsExactly(
                org.assertj.core.groups.Tuple.tuple("o1", KeyDifference.Kind.VALUES_DIFFER),
                org.assertj.core.groups.Tuple.tuple("o2", KeyDifference.Kind.MISSING_IN_COPY),
                org.assertj.core.groups.Tuple.tuple("o9", KeyDifference.Kind.EXTRA_IN_COPY));
        assertThat(report.differences().get(0).source()).containsEntry("status", "PAID");
        assertThat(report.differences().get(0).copy()).containsEntry("status", "PLACED");
    }

    @Test
    void reportsAtMostTheLimitButCountsEveryDifference() throws SQLException {
        for (int i = 0; i < 30; i++) {
            exec(source, "INSERT INTO orders VALUES ('o" + i + "', 'c', 1, 'PAID', null)");
        }
        DiffReport report = TableDiff.reportingAtMost(5).compare("orders -> billing", source,
                TableProjection.of("orders", "order_id", "customer_id", "amount_cents", "status"), copy,
                TableProjection.of("billing_orders", "id", "customer", "amount", "status"));

        assertThat(report.differingKeys()).isEqualTo(30);
        assertThat(report.differences()).hasSize(5);
    }

    @Test
    void namesMatchTablesAndColumnsCreatedQuotedInLowerCase() throws SQLException {
        exec(source, "INSERT INTO orders VALUES ('o1', 'c1', 500, 'PAID', null)");
        exec(copy, "CREATE TABLE \"copy_orders\" (\"id\" VARCHAR(40) PRIMARY KEY, \"status\" VARCHAR(20))");
        exec(copy, "INSERT INTO \"copy_orders\" VALUES ('o1', 'PAID')");

        DiffReport report = TableDiff.reportingAtMost(5).compare("orders -> copy", source,
                TableProjection.of("orders", "order_id", "status"), copy, TableProjection.of("copy_orders", "id", "status"));

        assertThat(report.verdict()).isEqualTo("MATCH");
    }

    @Test
    void aMissingColumnIsNamed() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TableDiff.reportingAtMost(5).compare("x", source,
                        TableProjection.of("orders", "order_id", "colour"), copy,
                        TableProjection.of("billing_orders", "id", "status")))
                .hasMessageContaining("colour");
    }

    private DiffReport diff() throws SQLException {
        return TableDiff.reportingAtMost(20).compare("orders -> billing", source,
                TableProjection.of("orders", "order_id", "customer_id", "amount_cents", "status"), copy,
                TableProjection.of("billing_orders", "id", "customer", "amount", "status"));
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
