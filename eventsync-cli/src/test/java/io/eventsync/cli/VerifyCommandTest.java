package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.SchemaNames;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventsync verify} in-process on H2 files: exit codes, JSON, --where, repair dry run and apply. */
class VerifyCommandTest {

    @TempDir
    Path work;

    private String sourceUrl;
    private String copyUrl;

    record Run(int exitCode, String out, String err) {
        Struct json() throws Exception {
            Struct.Builder b = Struct.newBuilder();
            JsonFormat.parser().merge(out, b);
            return b.build();
        }
    }

    @BeforeEach
    void tables() throws SQLException {
        sourceUrl = "jdbc:h2:file:" + work.resolve("orders");
        copyUrl = "jdbc:h2:file:" + work.resolve("billing");
        exec(sourceUrl, "CREATE TABLE orders (order_id VARCHAR(40) PRIMARY KEY, status VARCHAR(20), amount_cents BIGINT,"
                + " version BIGINT NOT NULL)");
        exec(copyUrl, "CREATE TABLE billing_orders (id VARCHAR(40) PRIMARY KEY, status VARCHAR(20), amount DECIMAL(20, 2),"
                + " version BIGINT NOT NULL)");
        StringBuilder source = new StringBuilder("INSERT INTO orders VALUES ");
        StringBuilder copy = new StringBuilder("INSERT INTO billing_orders VALUES ");
        for (int i = 1; i <= 50; i++) {
            String sep = i == 1 ? "" : ", ";
            source.append(sep).append("('o").append(i).append("', 'PAID', ").append(i * 100).append(", 2)");
            copy.append(sep).append("('o").append(i).append("', 'PAID', ").append(i).append("00.00, 2)");
        }
        exec(sourceUrl, source.toString());
        exec(copyUrl, copy.toString());
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(copyUrl);
        ds.setUser("sa");
        EventsyncSchema.install(ds, SchemaNames.defaults()); // the tombstones a repair records deletions in
    }

    @Test
    void equalTablesExitZero() {
        Run run = verify();

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("orders -> billing_orders: MATCH (50 source rows, 50 copy rows");
    }

    @Test
    void differingKeysExitOneAndTheJsonNamesThemWithBothValues() throws Exception {
        exec(copyUrl, "UPDATE billing_orders SET status = 'PLACED' WHERE id = 'o7'");
        exec(copyUrl, "DELETE FROM billing_orders WHERE id = 'o9'");

        Run run = verify("--json");

        assertThat(run.exitCode()).as(run.err()).isEqualTo(VerifyCommand.DIFFERS);
        Struct json = run.json();
        assertThat(json.getFieldsOrThrow("verdict").getStringValue()).isEqualTo("DIFF");
        assertThat(json.getFieldsOrThrow("differing_keys").getNumberValue()).isEqualTo(2);
        Struct first = json.getFieldsOrThrow("differences").getListValue().getValues(0).getStructValue();
        assertThat(first.getFieldsOrThrow("key").getStringValue()).isEqualTo("o7");
        assertThat(first.getFieldsOrThrow("kind").getStringValue()).isEqualTo("VALUES_DIFFER");
        assertThat(first.getFieldsOrThrow("source").getStructValue().getFieldsOrThrow("status").getStringValue())
                .isEqualTo("PAID");
        assertThat(first.getFieldsOrThrow("copy").getStructValue().getFieldsOrThrow("status").getStringValue())
                .isEqualTo("PLACED");
        assertThat(json.getFieldsOrThrow("work").getStructValue().getFieldsOrThrow("rows_read").getNumberValue())
                .isPositive();
    }

    @Test
    void whereRestrictsTheComparedRowsOnBothSides() {
        exec(copyUrl, "UPDATE billing_orders SET status = 'PLACED' WHERE id = 'o7'");

        Run run = verify("--where", "order_id <> 'o7'", "--copy-where", "id <> 'o7'");

        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("MATCH (49 source rows, 49 copy rows");
    }

    @Test
    void aMissingTableOrColumnIsNamedAndExitsTwo() {
        Run table = verify("--table", "orders=no_such_table");
        Run column = verify("--columns", "status,colour");

        assertThat(table.exitCode()).isEqualTo(VerifyCommand.ERROR);
        assertThat(table.err()).contains("table no_such_table does not exist");
        assertThat(column.exitCode()).isEqualTo(VerifyCommand.ERROR);
        assertThat(column.err()).contains("has no column colour");
    }

    @Test
    void anUnreachableDatabaseIsNamedAndExitsTwo() {
        Run run = verify("--source-url", "jdbc:postgresql://127.0.0.1:1/nothing?password=secret", "--source-user", "x");

        assertThat(run.exitCode()).isEqualTo(VerifyCommand.ERROR);
        assertThat(run.err()).contains("cannot connect to the source database jdbc:postgresql://127.0.0.1:1/nothing")
                .doesNotContain("secret");
    }

    @Test
    void badOptionsExitTwoBeforeAnythingConnects() {
        assertThat(verify("--apply").exitCode()).isEqualTo(VerifyCommand.ERROR);
        assertThat(verify("--repair").err()).contains("repair needs versionColumns");
        assertThat(verify("--chunk-size", "1").err()).contains("chunkSize must be in [2,");
        assertThat(verify("--subscription", "billing").err()).contains("--subscription and --outbox-source go together");
    }

    @Test
    void repairDryRunChangesNothingAndApplyMakesTheCopyEqualToTheSource() throws Exception {
        exec(copyUrl, "UPDATE billing_orders SET status = 'PLACED' WHERE id = 'o7'");
        exec(copyUrl, "DELETE FROM billing_orders WHERE id = 'o9'");
        exec(copyUrl, "INSERT INTO billing_orders VALUES ('o99', 'PAID', 1, 5)");
        List<String> before = copyRows();

        Run dryRun = verify("--version", "version", "--repair");

        assertThat(dryRun.exitCode()).as(dryRun.err()).isEqualTo(VerifyCommand.DIFFERS);
        assertThat(dryRun.out()).contains("repair (dry run, nothing written; --apply to write): 3 key(s) would change")
                .contains("o9: would be inserted at version 2").contains("o99: would be deleted at version 5");
        assertThat(copyRows()).isEqualTo(before);

        Run apply = verify("--version", "version", "--repair", "--apply");

        assertThat(apply.exitCode()).as(apply.out() + apply.err()).isZero();
        assertThat(apply.out()).contains("3 key(s) changed, 0 kept").contains("o7: updated to version 2")
                .contains("o9: inserted at version 2").contains("o99: deleted at version 5");
        Run again = verify();
        assertThat(again.exitCode()).as(again.out()).isZero();
    }

    private List<String> copyRows() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(copyUrl, "sa", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM billing_orders ORDER BY id")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "," + rs.getString(2) + "," + rs.getString(3) + "," + rs.getLong(4));
            }
        }
        return rows;
    }

    /** Runs verify with the default options; {@code extra} replaces a default's value or adds options. */
    private Run verify(String... extra) {
        Map<String, String> options = new LinkedHashMap<>();
        options.put("--source-url", sourceUrl);
        options.put("--source-user", "sa");
        options.put("--copy-url", copyUrl);
        options.put("--copy-user", "sa");
        options.put("--table", "orders=billing_orders");
        options.put("--key", "order_id=id");
        options.put("--columns", "status,amount_cents=amount");
        List<String> added = new ArrayList<>();
        for (int i = 0; i < extra.length; i++) {
            if (options.containsKey(extra[i])) {
                options.put(extra[i], extra[++i]);
            } else {
                added.add(extra[i]);
            }
        }
        List<String> args = new ArrayList<>(List.of("verify"));
        options.forEach((k, v) -> args.addAll(List.of(k, v)));
        args.addAll(added);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }

    private static void exec(String url, String sql) {
        try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
