package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventsync run --config}: a pipeline from a YAML file, run from the packaged jar. */
class RunIT {
    private static final int EVENTS = 2000;

    @TempDir
    Path work;

    @org.junit.jupiter.api.AfterEach
    void endLeftoverProcesses() throws InterruptedException {
        Jar.killLeftovers();
    }

    private String sourceUrl;
    private String copyUrl;

    @BeforeEach
    void files() throws Exception {
        // Embedded H2 files: this test opens them only while no eventsync process runs, and watches a
        // running one through its Prometheus metrics.
        sourceUrl = "jdbc:h2:file:" + work.resolve("orders");
        copyUrl = "jdbc:h2:file:" + work.resolve("billing");
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    @Test
    void aBrokenConfigExitsTwoNamingTheFileLineAndField() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), pipeline("log").replace(
                "        amount_cents: amount_cents", "        amount_cents: amount_in_cents"));

        Jar.Result result = Jar.run(work, "run", "--config", "pipeline.yaml");

        assertThat(result.exitCode()).as("stderr: %s", result.stderr()).isEqualTo(2);
        assertThat(result.stderr()).contains("pipeline.yaml:").contains("consume.mappings[0].columns.amount_cents")
                .contains("amount_in_cents");
        assertThat(work.resolve("billing.mv.db")).as("nothing was touched").doesNotExist();
    }

    @Test
    void aMissingEnvironmentVariableIsAConfigErrorAndItsValueIsNeverPrinted() throws Exception {
        Files.writeString(work.resolve("pipeline.yaml"), pipeline("log").replace("password: \"\"",
                "password: ${BILLING_DB_PASSWORD}"));

        Jar.Result missing = Jar.run(work, "run", "--config", "pipeline.yaml", "--check");
        Jar.Result set = Jar.run(work, Map.of("BILLING_DB_PASSWORD", "s3cret-value"), "run", "--config",
                "pipeline.yaml", "--check");

        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.stderr()).contains("BILLING_DB_PASSWORD").contains("consume.database.password");
        assertThat(set.exitCode()).as("stderr: %s", set.stderr()).isZero();
        assertThat(set.stdout() + set.stderr()).doesNotContain("s3cret-value");
    }

    @Test
    void sigtermInTheMiddleOfARunLosesNothingAndAppliesNothingTwice() throws Exception {
        writeSourceEvents();
        Files.writeString(work.resolve("pipeline.yaml"), pipeline("log"));

        int port = freePort();
        Process first = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml", "--metrics-port", "" + port);
        await().atMost(Duration.ofMinutes(3)).until(() -> !first.isAlive() || applied(port) > 0);
        assertThat(first.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();
        first.destroy(); // SIGTERM
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).as("exit code after SIGTERM; stderr: %s", Jar.result(work, -1).stderr()).isZero();
        long appliedBeforeStop = inboxRows();
        assertThat(Jar.result(work, 0).stderr()).contains("stopped cleanly");
        assertThat(appliedBeforeStop).as("stopped in the middle").isBetween(1L, (long) EVENTS);

        Process second = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml", "--metrics-port", "" + port);
        long remaining = EVENTS - appliedBeforeStop;
        try {
            await().atMost(Duration.ofMinutes(3)).until(() -> !second.isAlive() || applied(port) >= remaining);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            second.destroyForcibly().waitFor();
            throw new AssertionError("the restarted run applied " + applied(port) + " of the " + remaining
                    + " remaining events in 3 minutes; stderr: " + Jar.result(work, -1).stderr(), e);
        }
        second.destroy();
        assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.exitValue()).isZero();

        try (Connection copy = DriverManager.getConnection(copyUrl, "sa", "");
             Statement st = copy.createStatement()) {
            assertThat(count(st, "SELECT COUNT(*) FROM \"billing_orders\"")).as("nothing lost").isEqualTo(EVENTS);
            assertThat(count(st, "SELECT COUNT(*) FROM \"eventsync_inbox\"")).isEqualTo(EVENTS);
            assertThat(count(st, "SELECT COUNT(*) FROM \"billing_orders\" WHERE \"amount_cents\" <> \"version\" * 100"))
                    .as("every row has its own event's values").isZero();
            assertThat(count(st, "SELECT COUNT(*) FROM \"eventsync_dead_letters\"")).isZero();
        }
        try (Connection source = DriverManager.getConnection(sourceUrl, "sa", "");
             Statement st = source.createStatement()) {
            assertThat(count(st, "SELECT COUNT(*) FROM \"eventsync_outbox\"")).as("the relay drained the outbox").isZero();
        }
    }

    @Test
    void healthOnTheMetricsPortFollowsMaxFreshnessAndTheFreshnessGaugeIsServed() throws Exception {
        writeSourceEvents();
        Files.writeString(work.resolve("pipeline.yaml"), pipeline("log"));

        // The relay's heartbeats (1 s) keep the copy within the default 30 s: UP.
        int port = freePort();
        Process relaxed = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml", "--metrics-port", "" + port);
        await().atMost(Duration.ofMinutes(3)).until(() -> !relaxed.isAlive() || get(port, "/metrics").body()
                .contains("eventsync_copy_freshness_seconds{"));
        assertThat(relaxed.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();
        await().atMost(Duration.ofMinutes(1)).until(() -> get(port, "/health").statusCode() == 200);
        assertThat(get(port, "/health").body()).isEqualTo("UP\n");
        relaxed.destroy();
        assertThat(relaxed.waitFor(60, TimeUnit.SECONDS)).isTrue();

        // No copy is ever within 1 ms of its source: DOWN, naming the source.
        Process strict = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml", "--metrics-port", "" + port,
                "--max-freshness", "1ms");
        await().atMost(Duration.ofMinutes(3)).until(() -> !strict.isAlive() || get(port, "/health").body()
                .contains("source orders is"));
        assertThat(strict.isAlive()).as("run is running; stderr: %s", Jar.result(work, -1).stderr()).isTrue();
        Reply down = get(port, "/health");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).startsWith("DOWN\n").contains("ms behind");
        // Not a terminal: the status line (every 5 s) goes to the log.
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            Jar.Result out = Jar.result(work, -1);
            return (out.stderr() + out.stdout()).contains("billing: applied");
        });
        strict.destroy();
        assertThat(strict.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    private record Reply(int statusCode, String body) {}

    /** GET on the running process's metrics port; status 0 while it is not up yet. */
    private static Reply get(int port, String path) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.body());
        } catch (java.io.IOException e) {
            return new Reply(0, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(0, "");
        }
    }

    private void writeSourceEvents() throws SQLException {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(sourceUrl);
        ds.setUser("sa");
        EventsyncSchema.install(ds);
        Outbox outbox = Outbox.of("orders");
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            for (int i = 1; i <= EVENTS; i++) {
                String id = "order-" + i;
                outbox.append(c, Events.create("orders", id, i, OrderPlaced.newBuilder().setOrderId(id)
                        .setCustomerId("c-" + i).setAmountCents(i * 100L).setCurrency("EUR")
                        .setShippingAddress("1 Main St").build()));
                if (i % 500 == 0) {
                    c.commit();
                }
            }
            c.commit();
        }
    }

    private long inboxRows() throws SQLException {
        try (Connection copy = DriverManager.getConnection(copyUrl, "sa", "");
             Statement st = copy.createStatement()) {
            return count(st, "SELECT COUNT(*) FROM \"eventsync_inbox\"");
        }
    }

    /** Events the running process applied, from its Prometheus endpoint (0 while it is not up yet). */
    private static long applied(int port) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            return response.body().lines().filter(l -> l.startsWith("eventsync_dispatcher_applied_total"))
                    .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        } catch (java.io.IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static long count(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private String pipeline(String transport) {
        return """
                # relay the orders outbox to the embedded log, and apply it to billing's copy
                name: orders-to-billing
                types:
                  descriptor_set: orders.desc
                transport:
                  kind: %s
                  database:
                    jdbc_url: "%s"
                    user: sa
                relay:
                  source: orders
                  topic: shop.orders
                  database:
                    jdbc_url: "%s"
                    user: sa
                consume:
                  topic: shop.orders
                  group: billing
                  create_tables: true
                  database:
                    jdbc_url: "%s"
                    user: sa
                    password: ""
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      version_column: version
                      columns:
                        customer_id: customer_id
                        amount_cents: amount_cents
                        currency: currency
                """.formatted(transport, sourceUrl, sourceUrl, copyUrl);
    }
}
