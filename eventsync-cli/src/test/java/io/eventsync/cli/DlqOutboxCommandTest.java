package io.eventsync.cli;

import static io.eventsync.cli.InProcessCli.eventsync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Struct;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.internal.Logging;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.OutboxDeadLetters;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eventsync dlq ... --outbox} and {@code status}, run in-process against a relay that runs
 * meanwhile: rows a non-Java writer inserted that no transport takes are relay dead letters, listed,
 * shown and counted; discard and replay release their keys' waiting events in order.
 */
class DlqOutboxCommandTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final String TOPIC = "shop.orders";

    @TempDir
    Path work;

    @BeforeAll
    static void logLikeTheCommand() {
        Logging.configureDefault(); // as Main.execute does: logs on stderr, so stdout holds only the output
    }

    @Test
    void relayDeadLettersAreListedShownCountedAndReleasedInOrder() throws Exception {
        String url = "jdbc:h2:file:" + work.resolve("orders") + ";DB_CLOSE_ON_EXIT=FALSE";
        Files.write(work.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
        Path pipeline = work.resolve("pipeline.yaml");
        Files.writeString(pipeline, """
                name: ops
                types: { descriptor_set: orders.desc }
                transport:
                  kind: log
                  database: { jdbc_url: "%1$s", user: sa }
                relay:
                  source: orders
                  topic: %2$s
                  database: { jdbc_url: "%1$s", user: sa }
                """.formatted(url, TOPIC));
        try (HikariDataSource ds = pool(url)) {
            EventsyncSchema.install(ds);
            // A non-Java writer: plain INSERTs, no size check, whatever bytes it has.
            Envelope big1 = Events.create("orders", "big", 1, placed("big", "x".repeat(1_200_000)));
            Envelope broken1 = Events.create("orders", "broken", 1, placed("broken", "1 Main St"));
            byte[] whole = broken1.toByteArray();
            long bigId = insert(ds, big1, big1.toByteArray());
            long brokenId = insert(ds, broken1, Arrays.copyOf(whole, whole.length - 2));
            insert(ds, Events.create("orders", "big", 2, placed("big", "2 Main St")));
            insert(ds, Events.create("orders", "broken", 2, placed("broken", "2 Main St")));
            insert(ds, Events.create("orders", "fine", 1, placed("fine", "3 Main St")));

            OutboxDeadLetters letters = OutboxDeadLetters.create(ds);
            EmbeddedLog log = EmbeddedLog.builder().dataSource(ds).build();
            Publisher publisher = log.publisher(TOPIC);
            Relay relay = relay(ds, publisher);
            try {
                await().atMost(DEADLINE).until(() -> letters.count("orders") == 2 && published(ds).size() == 1);
                assertThat(published(ds)).containsExactly("fine#1");

                InProcessCli.Run list = eventsync("dlq", "list", "--outbox", "orders", "--jdbc-url", url, "--user", "sa", "--json");
                assertThat(list.exitCode()).as(list.stderr()).isZero();
                List<Struct> listed = new ArrayList<>();
                list.json().getFieldsOrThrow("list").getListValue().getValuesList().forEach(v -> listed.add(v.getStructValue()));
                assertThat(listed).extracting(l -> (long) l.getFieldsOrThrow("id").getNumberValue()).containsExactly(bigId, brokenId);
                assertThat(listed.get(0).getFieldsOrThrow("reason").getStringValue()).startsWith("oversize: event " + big1.getId());
                assertThat(listed.get(1).getFieldsOrThrow("reason").getStringValue()).startsWith("undecodable: outbox row " + brokenId);
                assertThat(listed.get(1).getFieldsOrThrow("key").getStringValue()).isEqualTo("broken");

                InProcessCli.Run text = eventsync("dlq", "list", "--outbox", "orders", "--config", pipeline.toString());
                assertThat(text.stdout()).contains("2 relay dead letter(s)").contains("oversize:").contains("undecodable:");

                InProcessCli.Run show = eventsync("dlq", "show", String.valueOf(brokenId), "--outbox", "orders", "--config", pipeline.toString());
                assertThat(show.exitCode()).as(show.stderr()).isZero();
                assertThat(show.json().getFieldsOrThrow("event").getStringValue()).startsWith("undecodable (");
                assertThat(show.json().getFieldsOrThrow("event_id").getStringValue()).isEqualTo(broken1.getId());

                Struct status = eventsync("status", "--config", pipeline.toString(), "--json").json().getFieldsOrThrow("relay")
                        .getStructValue();
                assertThat(status.getFieldsOrThrow("outbox_dead_letters").getNumberValue()).isEqualTo(2);
                assertThat(status.getFieldsOrThrow("outbox_backlog").getNumberValue()).isEqualTo(2);

                InProcessCli.Run unknown = eventsync("dlq", "discard", "999999", "--outbox", "orders", "--jdbc-url", url, "--user", "sa");
                assertThat(unknown.exitCode()).isEqualTo(Main.BAD_CONFIG);
                assertThat(unknown.stderr()).contains("no relay dead letter 999999");
                InProcessCli.Run notANumber = eventsync("dlq", "replay", "abc", "--outbox", "orders", "--jdbc-url", url, "--user", "sa");
                assertThat(notANumber.exitCode()).isEqualTo(Main.BAD_CONFIG);
                assertThat(notANumber.stderr()).contains("but was: abc");

                InProcessCli.Run discard = eventsync("dlq", "discard", String.valueOf(brokenId), "--outbox", "orders", "--jdbc-url", url,
                        "--user", "sa");
                assertThat(discard.exitCode()).as(discard.stderr()).isZero();
                await().atMost(DEADLINE).until(() -> published(ds).size() == 2);
                assertThat(published(ds)).containsExactly("fine#1", "broken#2");
            } finally {
                relay.close();
                publisher.close();
                log.close();
            }

            // The operator raises the transport's limit, and replays while the relay runs.
            log = EmbeddedLog.builder().dataSource(ds).maxEventBytes(2 << 20).build();
            publisher = log.publisher(TOPIC);
            relay = relay(ds, publisher);
            try {
                InProcessCli.Run replay = eventsync("dlq", "replay", String.valueOf(bigId), "--outbox", "orders", "--config",
                        pipeline.toString());
                assertThat(replay.exitCode()).as(replay.stderr()).isZero();
                await().atMost(DEADLINE).until(() -> published(ds).size() == 4);
                assertThat(published(ds)).containsExactly("fine#1", "broken#2", "big#1", "big#2");
                Struct status = eventsync("status", "--config", pipeline.toString(), "--json").json().getFieldsOrThrow("relay")
                        .getStructValue();
                assertThat(status.getFieldsOrThrow("outbox_dead_letters").getNumberValue()).isZero();
                assertThat(status.getFieldsOrThrow("outbox_backlog").getNumberValue()).isZero();
                assertThat(eventsync("dlq", "list", "--outbox", "orders", "--config", pipeline.toString()).stdout())
                        .contains("no relay dead letters in outbox orders");
            } finally {
                relay.close();
                publisher.close();
                log.close();
            }
        }
    }

    private static Relay relay(HikariDataSource ds, Publisher publisher) {
        return Relay.builder().dataSource(ds).source("orders").publisher(publisher).leaseDuration(Duration.ofSeconds(1))
                .meterRegistry(new SimpleMeterRegistry()).build().start();
    }

    private static HikariDataSource pool(String url) {
        HikariDataSource ds = new HikariDataSource();
        ds.setJdbcUrl(url);
        ds.setUsername("sa");
        ds.setMaximumPoolSize(6);
        return ds;
    }

    private static long insert(HikariDataSource ds, Envelope e) throws Exception {
        return insert(ds, e, e.toByteArray());
    }

    private static long insert(HikariDataSource ds, Envelope e, byte[] bytes) throws Exception {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO \"eventsync_outbox\" (source, event_id, subject,"
                     + " event_type, event_sequence, payload) VALUES ('orders', ?, ?, ?, ?, ?)", new String[] {"id"})) {
            ps.setString(1, e.getId());
            ps.setString(2, e.getSubject());
            ps.setString(3, e.getType());
            ps.setLong(4, e.getSequence());
            ps.setBytes(5, bytes);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    /** subject#sequence of the events that reached the log, in log order (the relay's heartbeats left out). */
    private static List<String> published(HikariDataSource ds) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = ds.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT payload FROM \"eventsync_log\" WHERE topic = '" + TOPIC
                     + "' ORDER BY log_offset")) {
            while (rs.next()) {
                Envelope e = Envelope.parseFrom(rs.getBytes(1));
                if (!Heartbeats.isHeartbeat(e)) {
                    out.add(e.getSubject() + "#" + e.getSequence());
                }
            }
        }
        return out;
    }

    private static OrderPlaced placed(String id, String address) {
        return OrderPlaced.newBuilder().setOrderId(id).setCustomerId("c").setAmountCents(100).setCurrency("EUR")
                .setShippingAddress(address).build();
    }
}
