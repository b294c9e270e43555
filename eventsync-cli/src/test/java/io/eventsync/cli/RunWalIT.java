package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Struct;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.jdbc.WalOutbox;
import io.eventsync.jdbc.WalSlot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventsync run} with {@code relay.mode: wal} on the PostgreSQL cluster with wal_level=logical
 * ({@code scripts/pg-logical.sh}, 127.0.0.1:5433 unless {@code -Deventsync.pg.logical.port} or
 * {@code EVENTSYNC_PG_LOGICAL_PORT} says otherwise), from the packaged jar; and the refusal on the
 * shared cluster, which runs with wal_level=replica.
 */
class RunWalIT {
    private static final int EVENTS = 300;

    @TempDir
    Path work;

    private final String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String source = "es_src_" + id;
    private final String copy = "es_cp_" + id;
    private final String slot = "es_t_run_" + id;
    private HikariDataSource sourceDb;

    private static String baseUrl() {
        String port = System.getProperty("eventsync.pg.logical.port", System.getenv("EVENTSYNC_PG_LOGICAL_PORT"));
        return "jdbc:postgresql://127.0.0.1:" + (port == null || port.isBlank() ? "5433" : port.trim()) + "/test";
    }

    @BeforeEach
    void schemas() throws Exception {
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement()) {
            st.execute("CREATE SCHEMA " + source);
            st.execute("CREATE SCHEMA " + copy);
        } catch (SQLException e) {
            throw new IllegalStateException("this test needs the PostgreSQL cluster with wal_level=logical on " + baseUrl()
                    + "; run scripts/pg-logical.sh: " + e.getMessage(), e);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(baseUrl() + "?currentSchema=" + source);
        config.setUsername("postgres");
        config.setMaximumPoolSize(4);
        sourceDb = new HikariDataSource(config);
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    @AfterEach
    void drop() throws Exception {
        Jar.killLeftovers();
        WalSlot.drop(sourceDb, slot, Duration.ofSeconds(20));
        WalSlot.dropPublication(sourceDb, slot);
        sourceDb.close();
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + source + " CASCADE");
            st.execute("DROP SCHEMA IF EXISTS " + copy + " CASCADE");
        }
    }

    @Test
    void aWalPipelineCreatesItsSlotRelaysWhatWritersEmitAndShowsTheSlotInStatus() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), pipeline(baseUrl()));
        Process run = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml");
        // Events are captured from the moment the slot exists: the writers start after the first run made it.
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || slotActive());
        assertThat(run.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();

        EventsyncSchema.install(sourceDb, SchemaNames.of(source));
        writeOrders();
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || copied() == EVENTS);
        assertThat(copied()).as("stderr: %s", Jar.result(work, -1).stderr()).isEqualTo(EVENTS);

        Jar.Result status = Jar.run(work, "status", "--config", "pipeline.yaml", "--json");
        assertThat(status.exitCode()).as("stderr: %s", status.stderr()).isZero();
        Struct relay = status.json().getFieldsOrThrow("relay").getStructValue();
        assertThat(relay.getFieldsOrThrow("mode").getStringValue()).isEqualTo("wal");
        Struct slotStatus = relay.getFieldsOrThrow("slot").getStructValue();
        assertThat(slotStatus.getFieldsOrThrow("name").getStringValue()).isEqualTo(slot);
        assertThat(slotStatus.getFieldsOrThrow("active").getBoolValue()).isTrue();
        assertThat(slotStatus.getFieldsOrThrow("lag_bytes").getNumberValue()).isNotNegative();

        run.destroy(); // SIGTERM
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as("stderr: %s", Jar.result(work, -1).stderr()).isZero();
    }

    /**
     * {@code transport.kind: direct}: the WAL relay hands the events to the consumer in the same process, no
     * log in between (the schema's log table stays empty); SIGTERM stops it with exit 0, and a second run
     * on the same slot applies nothing twice.
     */
    @Test
    void aDirectPipelineAppliesWhatWritersEmitWithNoTransportInBetween() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), pipeline(baseUrl(), "  kind: direct\n"));
        Process run = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml");
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || slotActive());
        assertThat(run.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();

        writeOrders();
        await().atMost(Duration.ofMinutes(2)).until(() -> !run.isAlive() || copied() == EVENTS);
        assertThat(copied()).as("stderr: %s", Jar.result(work, -1).stderr()).isEqualTo(EVENTS);
        run.destroy(); // SIGTERM
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as("stderr: %s", Jar.result(work, -1).stderr()).isZero();
        assertThat(inboxRows()).isEqualTo(EVENTS);
        try (Connection c = sourceDb.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + source + ".eventsync_log")) {
            rs.next();
            assertThat(rs.getLong(1)).as("nothing in the log: nothing between the relay and the copy").isZero();
        }

        // Again on the same slot: whatever the first run applied but had not confirmed comes again, once in effect.
        Process again = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml");
        await().atMost(Duration.ofMinutes(2)).until(() -> !again.isAlive() || slotActive());
        assertThat(again.isAlive()).as("stderr: %s", Jar.result(work, -1).stderr()).isTrue();
        again.destroy();
        assertThat(again.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(again.exitValue()).as("stderr: %s", Jar.result(work, -1).stderr()).isZero();
        assertThat(copied()).isEqualTo(EVENTS);
        assertThat(inboxRows()).as("each event in the inbox once").isEqualTo(EVENTS);
    }

    /** EVENTS orders placed through WalOutbox logical messages, 100 per transaction. */
    private void writeOrders() throws SQLException {
        WalOutbox outbox = WalOutbox.of("orders");
        try (Connection c = sourceDb.getConnection()) {
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
    }

    private long inboxRows() throws SQLException {
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + copy + ".eventsync_inbox")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void walModeIsRefusedWithTheReasonWhereWalLevelIsNotLogical() throws Exception {
        String shared = "jdbc:postgresql://127.0.0.1:5432/test";
        Files.writeString(work.resolve("pipeline.yaml"), """
                types:
                  descriptor_set: orders.desc
                transport:
                  kind: nats
                relay:
                  source: orders
                  topic: shop.orders
                  mode: wal
                  database:
                    jdbc_url: "%s"
                    user: postgres
                """.formatted(shared));

        Jar.Result result = Jar.run(work, "run", "--config", "pipeline.yaml");

        assertThat(result.exitCode()).as("stderr: %s", result.stderr()).isEqualTo(2);
        assertThat(result.stderr()).contains("wal_level = logical").contains("wal_level = replica")
                .contains("relay.mode: query");
    }

    private boolean slotActive() {
        Optional<WalSlot.Status> s = WalSlot.status(sourceDb, slot);
        return s.isPresent() && s.get().active();
    }

    private long copied() throws SQLException {
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM pg_tables WHERE schemaname = '" + copy
                     + "' AND tablename = 'billing_orders'")) {
            rs.next();
            if (rs.getLong(1) == 0) {
                return 0;
            }
        }
        try (Connection c = DriverManager.getConnection(baseUrl(), "postgres", ""); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + copy + ".billing_orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String pipeline(String url) {
        return pipeline(url, """
                  kind: log
                  database: { jdbc_url: "%1$s?currentSchema=%2$s", user: postgres }
                """.formatted(url, source));
    }

    /** The pipeline with {@code transport} (its entries, indented by two spaces). */
    private String pipeline(String url, String transport) {
        return """
                name: orders-wal
                types:
                  descriptor_set: orders.desc
                transport:
                %5$s\
                relay:
                  source: orders
                  topic: shop.orders
                  mode: wal
                  slot: %4$s
                  publication: %4$s
                  create_slot: true
                  database: { jdbc_url: "%1$s?currentSchema=%2$s", user: postgres }
                consume:
                  topic: shop.orders
                  group: billing
                  create_tables: true
                  database: { jdbc_url: "%1$s?currentSchema=%3$s", user: postgres }
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      version_column: version
                      columns:
                        customer_id: customer_id
                        amount_cents: amount_cents
                """.formatted(url, source, copy, slot, transport);
    }
}
