package io.eventsync.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.envelope.Events;
import io.eventsync.http.FeedServer;
import io.eventsync.http.JdbcLogFeedSource;
import io.eventsync.http.SnapshotMapping;
import io.eventsync.http.SnapshotRow;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code transport.kind: http} in a pipeline file, and what {@code consume.on_gone} does when the source's
 * log retention removed events a stopped pipeline never read (H2 files, a real FeedServer, in process).
 */
class PipelineHttpGoneTest {
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private static final String TOKEN = "token-of-the-billing-copy-01";
    private static final String TOPIC = "shop.orders";

    @TempDir
    Path work;

    private JdbcDataSource source;
    private JdbcDataSource copy;
    private String copyUrl;
    private EmbeddedLog log;
    private Relay relay;
    private JdbcLogFeedSource feed;
    private FeedServer server;
    private final Map<String, Long> versions = new java.util.HashMap<>();
    private int writes;

    @BeforeEach
    void source() throws Exception {
        // Unquoted names in lower case, as eventsync's own tables are (so the test's SQL needs no quotes).
        String sourceUrl = "jdbc:h2:file:" + work.resolve("orders") + ";DATABASE_TO_LOWER=TRUE";
        copyUrl = "jdbc:h2:file:" + work.resolve("billing") + ";DATABASE_TO_LOWER=TRUE";
        source = h2(sourceUrl);
        copy = h2(copyUrl);
        EventsyncSchema.install(source);
        execute(source, "CREATE TABLE orders (order_id VARCHAR(50) PRIMARY KEY, amount_cents BIGINT NOT NULL,"
                + " version BIGINT NOT NULL)");
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
        log = EmbeddedLog.builder().dataSource(source).build();
        relay = Relay.builder().dataSource(source).source("orders").publisher(log.publisher(TOPIC))
                .heartbeatInterval(Duration.ZERO).meterRegistry(new SimpleMeterRegistry()).build().start();
        feed = JdbcLogFeedSource.builder(source).build();
        server = FeedServer.builder().source(feed).feed(TOPIC).sourceName("orders").client("billing", TOKEN)
                .snapshot(SnapshotMapping.builder("orders").topic(TOPIC).table("orders").keyColumns("order_id")
                        .dataSource(source)
                        .rows(row -> new SnapshotRow(row.getString("order_id"), row.getLong("version"),
                                order(row.getString("order_id"), row.getLong("amount_cents"))))
                        .build())
                .build().start();
    }

    @AfterEach
    void stop() {
        server.close();
        feed.close();
        relay.close();
        log.close();
    }

    @Test
    void withOnGoneRebootstrapARestartedPipelinePastRetentionEndsEqualToTheSource() throws Exception {
        PipelineConfig config = config("  on_gone: rebootstrap\n  snapshot: orders\n");
        followedThenStopped(config);
        write(40); // while the pipeline is stopped
        retainAllButTheLast(5);

        try (Pipeline pipeline = Pipeline.start(config, new SimpleMeterRegistry())) {
            await().atMost(CONVERGE).until(() -> position() > 60);
            write(30); // after the re-bootstrap: through the feed
            await().atMost(CONVERGE).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(rows(copy, "billing_orders")).isEqualTo(rows(source, "orders")));
            assertThat(pipeline.dispatcher().orElseThrow().health(Duration.ofMinutes(5)).healthy()).isTrue();
        }
    }

    @Test
    void byDefaultARestartedPipelinePastRetentionStopsAndItsHealthSaysWhy() throws Exception {
        PipelineConfig config = config("");
        followedThenStopped(config);
        List<String> copied = rows(copy, "billing_orders");
        write(40);
        retainAllButTheLast(5);

        try (Pipeline pipeline = Pipeline.start(config, new SimpleMeterRegistry())) {
            await().atMost(CONVERGE).until(() -> !pipeline.dispatcher().orElseThrow().health(Duration.ofMinutes(5)).healthy());
            assertThat(pipeline.dispatcher().orElseThrow().health(Duration.ofMinutes(5)).reasons()).singleElement()
                    .asString().contains("feed " + TOPIC + " no longer holds position 60", "oldest retained offset 95");
            assertThat(rows(copy, "billing_orders")).isEqualTo(copied);
            assertThat(position()).isEqualTo(60);
        }
    }

    /** 60 orders written and followed by the pipeline to the head; then the pipeline stops. */
    private void followedThenStopped(PipelineConfig config) throws Exception {
        write(60);
        try (Pipeline pipeline = Pipeline.start(config, new SimpleMeterRegistry())) {
            await().atMost(CONVERGE).until(() -> position() == 60);
            assertThat(rows(copy, "billing_orders")).isEqualTo(rows(source, "orders"));
        }
    }

    private PipelineConfig config(String onGone) throws Exception {
        Path file = work.resolve("pipeline.yaml");
        Files.writeString(file, """
                name: orders-to-billing
                types:
                  descriptor_set: orders.desc
                transport:
                  kind: http
                  servers: %1$s
                  http: { token: "${FEED_TOKEN}", poll_wait: 2s }
                consume:
                  topic: shop.orders
                  group: billing
                %3$s  create_tables: true
                  database: { jdbc_url: "%2$s", user: sa }
                  mappings:
                    - type: shop.orders.v1.OrderPlaced
                      table: billing_orders
                      key: { column: order_id, from_subject: true }
                      columns: { amount_cents: amount_cents }
                """.formatted(server.uri(), copyUrl, onGone));
        return new PipelineConfigLoader(PipelineConfigs.transportKinds(), Map.of("FEED_TOKEN", TOKEN)::get).load(file);
    }

    /** {@code n} business transactions over 25 orders: the row and its event in the outbox, in one transaction. */
    private void write(int n) throws Exception {
        Outbox outbox = Outbox.of("orders");
        try (Connection c = source.getConnection()) {
            c.setAutoCommit(false);
            for (int i = 0; i < n; i++) {
                String id = "order-" + (writes++ * 7) % 25;
                long version = versions.merge(id, 1L, Long::sum);
                long amount = 100 * version + id.length();
                try (PreparedStatement ps = c.prepareStatement(version == 1
                        ? "INSERT INTO orders (amount_cents, version, order_id) VALUES (?, ?, ?)"
                        : "UPDATE orders SET amount_cents = ?, version = ? WHERE order_id = ?")) {
                    ps.setLong(1, amount);
                    ps.setLong(2, version);
                    ps.setString(3, id);
                    ps.executeUpdate();
                }
                outbox.append(c, Events.create("orders", id, version, order(id, amount)));
                c.commit();
            }
        }
    }

    /**
     * Once the relay moved every event to the log, runs the log's retention with another (faster) group
     * registered five entries before the head: what the stopped pipeline has not read goes.
     */
    private void retainAllButTheLast(int kept) throws Exception {
        long written = versions.values().stream().mapToLong(Long::longValue).sum();
        await().atMost(CONVERGE).until(() -> feed.range(TOPIC).head() == written);
        execute(source, "INSERT INTO eventsync_log_group (consumer_group, topic, next_offset) VALUES ('audit', '"
                + TOPIC + "', " + (written - kept) + ")");
        log.retain();
        assertThat(feed.range(TOPIC).oldest()).isEqualTo(written - kept);
    }

    private long position() throws Exception {
        try (Connection c = copy.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(next_offset), 0) FROM eventsync_offsets"
                     + " WHERE consumer_group = 'billing'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static OrderPlaced order(String id, long amount) {
        return OrderPlaced.newBuilder().setOrderId(id).setCustomerId("c-" + id).setAmountCents(amount)
                .setCurrency("EUR").setShippingAddress("1 Main St").build();
    }

    private static List<String> rows(JdbcDataSource db, String table) throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection c = db.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT order_id, amount_cents, version FROM " + table + " ORDER BY order_id")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "|" + rs.getLong(2) + "|" + rs.getLong(3));
            }
        }
        return rows;
    }

    private static JdbcDataSource h2(String url) {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(url);
        ds.setUser("sa");
        return ds;
    }

    private static void execute(JdbcDataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
