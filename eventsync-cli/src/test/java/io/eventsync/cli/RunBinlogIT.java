package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Struct;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.Outbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventsync run} with {@code relay.mode: binlog} on the MariaDB server with row-format binlogs
 * ({@code scripts/mariadb-binlog.sh}, 127.0.0.1:3307 unless {@code -Deventsync.mariadb.binlog.port} or
 * {@code EVENTSYNC_MARIADB_BINLOG_PORT} says otherwise), from the packaged jar; and the refusal on the
 * shared server, which runs without a binlog.
 */
class RunBinlogIT {
    private static final int EVENTS = 300;

    @TempDir
    Path work;

    private final String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String source = "es_src_" + id;
    private final String copy = "es_cp_" + id;

    private static String baseUrl() {
        String port = System.getProperty("eventsync.mariadb.binlog.port", System.getenv("EVENTSYNC_MARIADB_BINLOG_PORT"));
        return "jdbc:mariadb://127.0.0.1:" + (port == null || port.isBlank() ? "3307" : port.trim()) + "/";
    }

    private static Connection admin() throws SQLException {
        return DriverManager.getConnection(baseUrl() + "?user=root");
    }

    @BeforeEach
    void databases() throws Exception {
        try (Connection c = admin(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + source);
            st.execute("CREATE DATABASE " + copy);
        } catch (SQLException e) {
            throw new IllegalStateException("this test needs the MariaDB server with row-format binlogs on " + baseUrl()
                    + "; run scripts/mariadb-binlog.sh: " + e.getMessage(), e);
        }
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    @AfterEach
    void drop() throws Exception {
        Jar.killLeftovers();
        try (Connection c = admin(); Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + source);
            st.execute("DROP DATABASE IF EXISTS " + copy);
        }
    }

    @Test
    void aBinlogPipelineStoresItsStartRelaysWhatWritersCommitAndShowsItsModeInStatus() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), pipeline(baseUrl()));
        Process run = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml");
        // Only what commits after the stored start is relayed: the writers start once the first run stored it.
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || count(source, "eventsync_binlog_position") == 1);
        assertThat(run.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();

        Outbox outbox = Outbox.of("orders");
        try (Connection c = DriverManager.getConnection(baseUrl() + source + "?user=root")) {
            c.setAutoCommit(false);
            for (int i = 1; i <= EVENTS; i++) {
                String order = "order-" + i;
                outbox.append(c, Events.create("orders", order, i, OrderPlaced.newBuilder().setOrderId(order)
                        .setCustomerId("c-" + i).setAmountCents(i * 100L).setCurrency("EUR")
                        .setShippingAddress("1 Main St").build()));
                if (i % 100 == 0) {
                    c.commit();
                }
            }
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || count(copy, "billing_orders") == EVENTS);
        assertThat(count(copy, "billing_orders")).as("stderr: %s", Jar.result(work, -1).stderr()).isEqualTo(EVENTS);
        await().atMost(Duration.ofMinutes(1)).until(() -> count(source, "eventsync_outbox") == 0);

        Jar.Result status = Jar.run(work, "status", "--config", "pipeline.yaml", "--json");
        assertThat(status.exitCode()).as("stderr: %s", status.stderr()).isZero();
        Struct relay = status.json().getFieldsOrThrow("relay").getStructValue();
        assertThat(relay.getFieldsOrThrow("mode").getStringValue()).isEqualTo("binlog");

        run.destroy(); // SIGTERM
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as("stderr: %s", Jar.result(work, -1).stderr()).isZero();
    }

    @Test
    void binlogModeIsRefusedWithTheSettingToChangeWhereTheBinlogIsOff() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), """
                types:
                  descriptor_set: orders.desc
                transport:
                  kind: nats
                relay:
                  source: orders
                  topic: shop.orders
                  mode: binlog
                  database:
                    jdbc_url: "jdbc:mariadb://127.0.0.1:3306/test"
                    user: root
                """);

        Jar.Result result = Jar.run(work, "run", "--config", "pipeline.yaml");

        assertThat(result.exitCode()).as("stderr: %s", result.stderr()).isEqualTo(2);
        assertThat(result.stderr()).contains("log_bin=OFF").contains("binlog_format=ROW").contains("relay.mode: query");
    }

    private static long count(String database, String table) throws SQLException {
        try (Connection c = admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"
                     + database + "' AND TABLE_NAME = '" + table + "'")) {
            rs.next();
            if (rs.getLong(1) == 0) {
                return 0;
            }
        }
        try (Connection c = admin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + database + "." + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String pipeline(String url) {
        return """
                name: orders-binlog
                types:
                  descriptor_set: orders.desc
                transport:
                  kind: log
                  database: { jdbc_url: "%1$s%2$s", user: root }
                relay:
                  source: orders
                  topic: shop.orders
                  mode: binlog
                  create_position: true
                  database: { jdbc_url: "%1$s%2$s", user: root }
                consume:
                  topic: shop.orders
                  group: billing
                  create_tables: true
                  database: { jdbc_url: "%1$s%3$s", user: root }
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      version_column: version
                      columns:
                        customer_id: customer_id
                        amount_cents: amount_cents
                """.formatted(url, source, copy);
    }
}
