package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.internal.Logging;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.cli.pipeline.PipelineConfig;
import io.eventsync.cli.pipeline.PipelineConfigLoader;
import io.eventsync.cli.pipeline.PipelineConfigs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventsync status} shows the freshness a running consumer recorded from the relay's heartbeats
 * (table eventsync_freshness_partition in the copy's database, a row per partition), beside its dead letters and parked keys.
 */
class StatusFreshnessTest {
    @TempDir
    Path work;

    @BeforeAll
    static void logLikeTheCommand() {
        Logging.configureDefault();
    }

    private static synchronized String status(Path pipeline) throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().setErr(new PrintWriter(err, true))
                    .execute("status", "--config", pipeline.toString(), "--json");
            assertThat(code).as(err.toString()).isZero();
            return captured.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(out);
        }
    }

    @Test
    void statusShowsTheFreshnessTheConsumerRecorded() throws Exception {
        String sourceUrl = "jdbc:h2:file:" + work.resolve("orders") + ";DB_CLOSE_ON_EXIT=FALSE";
        String copyUrl = "jdbc:h2:file:" + work.resolve("billing") + ";DB_CLOSE_ON_EXIT=FALSE";
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
                """.formatted(sourceUrl, copyUrl));
        PipelineConfig config = new PipelineConfigLoader(PipelineConfigs.transportKinds(), Map.<String, String>of()::get)
                .load(file);
        try (Pipeline pipeline = Pipeline.start(config, new SimpleMeterRegistry())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> consume(status(file)).getFieldsOrThrow("freshness")
                    .hasStructValue());
            Struct consume = consume(status(file));
            Struct orders = consume.getFieldsOrThrow("freshness").getStructValue().getFieldsOrThrow("orders")
                    .getStructValue();
            assertThat(orders.getFieldsOrThrow("seconds").getNumberValue()).isGreaterThanOrEqualTo(0);
            assertThat(orders.getFieldsOrThrow("source_time").getStringValue()).isNotEmpty();
            assertThat(consume.getFieldsOrThrow("dead_letters").getNumberValue()).isZero();
            assertThat(consume.getFieldsOrThrow("parked_keys").getNumberValue()).isZero();
            assertThat(pipeline.dispatcher().orElseThrow().freshness()).containsKey("orders");
        }
    }

    private static Struct consume(String json) throws Exception {
        Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build().getFieldsOrThrow("consume").getStructValue();
    }
}
