package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operations commands against a pipeline that left a dead letter with an event held behind it. */
class OpsIT {

    @TempDir
    Path work;

    @org.junit.jupiter.api.AfterEach
    void endLeftoverProcesses() throws InterruptedException {
        Jar.killLeftovers();
    }

    @Test
    void aDiscardedDeadLetterReleasesTheEventHeldBehindItAndStatusShowsNoLag() throws Exception {
        String sourceUrl = "jdbc:h2:file:" + work.resolve("orders");
        String copyUrl = "jdbc:h2:file:" + work.resolve("billing");
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
        Files.writeString(work.resolve("pipeline.yaml"), """
                name: ops
                types: { descriptor_set: orders.desc }
                transport:
                  kind: log
                  database: { jdbc_url: "%1$s", user: sa }
                relay:
                  source: orders
                  topic: shop.orders
                  database: { jdbc_url: "%1$s", user: sa }
                consume:
                  topic: shop.orders
                  group: billing
                  create_tables: true
                  max_attempts: 2
                  database: { jdbc_url: "%2$s", user: sa }
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      columns: { amount_cents: amount_cents }
                """.formatted(sourceUrl, copyUrl));
        JdbcDataSource source = new JdbcDataSource();
        source.setURL(sourceUrl);
        source.setUser("sa");
        EventsyncSchema.install(source);
        try (Connection c = source.getConnection()) {
            Outbox outbox = Outbox.of("orders");
            outbox.append(c, Events.create("orders", "good-1", 1, placed("good-1", 100)));
            outbox.append(c, Events.create("orders", "bad-1", 1, placed("bad-1", -5))); // breaks amount_cents > 0
            outbox.append(c, Events.create("orders", "bad-1", 2, placed("bad-1", 700))); // held behind it
        }

        // --verbose logs at DEBUG on stderr, where the dispatcher says when it holds an event behind a dead letter.
        Process run = Jar.start(work, Map.of(), "run", "--config", "pipeline.yaml", "--verbose");
        await().atMost(Duration.ofMinutes(3)).until(() -> !run.isAlive()
                || Jar.result(work, 0).stderr().contains("held as dead letter"));
        run.destroy();
        assertThat(run.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(run.exitValue()).as("stderr: %s", Jar.result(work, 0).stderr()).isZero();

        Jar.Result list = Jar.run(work, "dlq", "list", "--config", "pipeline.yaml", "--json");
        assertThat(list.exitCode()).as(list.stderr()).isZero();
        assertThat(list.stdout()).contains("\"FAILED\"").contains("\"HELD\"").contains("bad-1");
        String failedId = list.stdout().lines().filter(l -> l.contains("\"id\"")).findFirst().orElseThrow()
                .replaceAll(".*\"id\": \"([^\"]+)\".*", "$1");

        Jar.Result show = Jar.run(work, "dlq", "show", failedId, "--config", "pipeline.yaml");
        assertThat(show.exitCode()).as(show.stderr()).isZero();
        assertThat(show.stdout()).contains("amount_cents").contains("-5");

        Jar.Result discard = Jar.run(work, "dlq", "discard", failedId, "--config", "pipeline.yaml");
        assertThat(discard.exitCode()).as(discard.stderr()).isZero();

        Jar.Result status = Jar.run(work, "status", "--config", "pipeline.yaml", "--json");
        assertThat(status.exitCode()).as(status.stderr()).isZero();
        Struct.Builder s = Struct.newBuilder();
        JsonFormat.parser().merge(status.stdout(), s);
        Struct consume = s.getFieldsOrThrow("consume").getStructValue();
        assertThat(consume.getFieldsOrThrow("dead_letters").getNumberValue()).isZero();
        assertThat(consume.getFieldsOrThrow("held").getNumberValue()).isZero();
        assertThat(consume.getFieldsOrThrow("lag").getNumberValue()).isZero();

        try (Connection copy = DriverManager.getConnection(copyUrl, "sa", "");
             Statement st = copy.createStatement();
             ResultSet rs = st.executeQuery("SELECT \"amount_cents\", \"version\" FROM \"billing_orders\""
                     + " WHERE \"order_id\" = 'bad-1'")) {
            assertThat(rs.next()).as("the held event was applied once its dead letter was discarded").isTrue();
            assertThat(rs.getLong(1)).isEqualTo(700);
            assertThat(rs.getLong(2)).isEqualTo(2);
        }

        Jar.Result offsets = Jar.run(work, "offsets", "show", "--config", "pipeline.yaml");
        assertThat(offsets.exitCode()).as(offsets.stderr()).isZero();
        assertThat(offsets.stdout()).contains("billing").contains("shop.orders");
    }

    @Test
    void schemaInstallCreatesTheTablesAndIsIdempotent() throws Exception {
        String url = "jdbc:h2:file:" + work.resolve("fresh");
        assertThat(Jar.run(work, "schema", "install", "--jdbc-url", url, "--user", "sa").exitCode()).isZero();
        Jar.Result again = Jar.run(work, "schema", "install", "--jdbc-url", url, "--user", "sa");
        assertThat(again.exitCode()).as(again.stderr()).isZero();
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM \"eventsync_inbox\"")) {
            assertThat(rs.next()).isTrue();
        }
        Jar.Result print = Jar.run(work, "schema", "install", "--print", "--dialect", "mariadb", "--schema", "shop");
        assertThat(print.exitCode()).isZero();
        assertThat(print.stdout()).contains("CREATE TABLE IF NOT EXISTS `shop`.`eventsync_outbox`");
    }

    private static OrderPlaced placed(String id, long amount) {
        return OrderPlaced.newBuilder().setOrderId(id).setCustomerId("c").setAmountCents(amount).setCurrency("EUR")
                .setShippingAddress("1 Main St").build();
    }
}
