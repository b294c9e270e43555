package io.eventsync.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running pipeline keeps what it writes bounded: the embedded log loses the entries its group has
 * passed once they are older than {@code retention.log}, and the copy database's inbox rows and
 * tombstones past their windows go, while the pipeline relays and applies (H2 files, in process).
 */
class PipelineRetentionTest {
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    @TempDir
    Path work;

    @Test
    void aRunningPipelinePurgesTheLogTheInboxAndTheTombstones() throws Exception {
        String sourceUrl = "jdbc:h2:file:" + work.resolve("orders");
        String copyUrl = "jdbc:h2:file:" + work.resolve("billing");
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
        Path file = work.resolve("pipeline.yaml");
        Files.writeString(file, """
                name: orders-to-billing
                types:
                  descriptor_set: orders.desc
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
                  database: { jdbc_url: "%2$s", user: sa }
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      columns: { amount_cents: amount_cents }
                retention:
                  log: 0s
                  inbox: 7d
                  tombstones: 7d
                  every: 100ms
                """.formatted(sourceUrl, copyUrl));
        PipelineConfig config = new PipelineConfigLoader(PipelineConfigs.transportKinds(), Map.<String, String>of()::get)
                .load(file);
        JdbcDataSource source = h2(sourceUrl);
        JdbcDataSource copy = h2(copyUrl);
        EventsyncSchema.install(source);
        EventsyncSchema.install(copy);
        Instant eightDaysAgo = Instant.now().minus(Duration.ofDays(8));
        execute(copy, "INSERT INTO \"PUBLIC\".\"eventsync_inbox\" VALUES ('billing', 'old-1', 'orders', 1, ?)", eightDaysAgo);
        execute(copy, "INSERT INTO \"PUBLIC\".\"eventsync_copy_tombstones\" VALUES ('billing_orders', '7:order-0', 3, ?)",
                eightDaysAgo);

        try (Pipeline pipeline = Pipeline.start(config, new SimpleMeterRegistry())) {
            Outbox outbox = Outbox.of("orders");
            try (Connection c = source.getConnection()) {
                c.setAutoCommit(false);
                for (int i = 1; i <= 50; i++) {
                    String id = "order-" + i;
                    outbox.append(c, Events.create("orders", id, 1, OrderPlaced.newBuilder().setOrderId(id)
                            .setCustomerId("c-" + i).setAmountCents(i * 100L).setCurrency("EUR")
                            .setShippingAddress("1 Main St").build()));
                }
                c.commit();
            }
            await().atMost(CONVERGE).until(() -> count(copy, "SELECT COUNT(*) FROM \"billing_orders\"") == 50);
            await().atMost(CONVERGE).until(() -> count(source, "SELECT COUNT(*) FROM \"PUBLIC\".\"eventsync_log\"") == 0);
            await().atMost(CONVERGE).until(() ->
                    count(copy, "SELECT COUNT(*) FROM \"PUBLIC\".\"eventsync_inbox\" WHERE event_id = 'old-1'") == 0
                    && count(copy, "SELECT COUNT(*) FROM \"PUBLIC\".\"eventsync_copy_tombstones\"") == 0);
            assertThat(count(copy, "SELECT COUNT(*) FROM \"PUBLIC\".\"eventsync_inbox\"")).isEqualTo(50);
        }
    }

    private static JdbcDataSource h2(String url) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(url);
        ds.setUser("sa");
        return ds;
    }

    private static void execute(JdbcDataSource ds, String sql, Instant at) throws Exception {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setTimestamp(1, Timestamp.from(at));
            ps.executeUpdate();
        }
    }

    private static long count(JdbcDataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
