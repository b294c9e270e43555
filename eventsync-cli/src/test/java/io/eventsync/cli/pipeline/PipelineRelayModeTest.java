package io.eventsync.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.ConfigException;
import io.eventsync.cli.demo.proto.OrderPlaced;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relay.mode: query | wal | binlog} and the WAL and binlog modes' keys in a pipeline file. */
class PipelineRelayModeTest {
    private static final String FILE = """
            types:
              descriptor_set: orders.desc
            transport:
              kind: nats
            relay:
              source: orders.v1
              topic: shop.orders
              database:
                jdbc_url: jdbc:postgresql://127.0.0.1:5433/test
            """;

    @TempDir
    Path dir;

    private final PipelineConfigLoader loader = new PipelineConfigLoader(PipelineConfigs.transportKinds(), Map.<String, String>of()::get);

    @BeforeEach
    void descriptorSet() throws Exception {
        Files.write(dir.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    private static final String CONSUME = """
            consume:
              topic: shop.orders
              group: billing
              database:
                jdbc_url: jdbc:postgresql://127.0.0.1:5433/test
              mappings:
                - type: shop.orders.v1.OrderPlaced
                  table: billing_orders
                  key: { column: order_id, field: order_id }
                  columns: { amount_cents: amount_cents }
            """;

    @Test
    void directTransportNeedsAWalRelayAndAConsumerOfItsTopic() throws Exception {
        String direct = FILE.replace("kind: nats", "kind: direct");
        PipelineConfig ok = loader.load(write(direct + "  mode: wal\n" + CONSUME));
        assertThat(ok.transport().kind()).isEqualTo("direct");
        assertThat(ok.relay().orElseThrow().wal()).isPresent();

        Path queryRelay = write(direct + CONSUME);
        assertThatThrownBy(() -> loader.load(queryRelay)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(queryRelay + ":4: transport.kind: kind direct needs a relay with mode wal");
        Path noConsumer = write(direct + "  mode: wal\n");
        assertThatThrownBy(() -> loader.load(noConsumer)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("and a consume section");
        Path otherTopic = write(direct + "  mode: wal\n" + CONSUME.replace("topic: shop.orders", "topic: shop.other"));
        assertThatThrownBy(() -> loader.load(otherTopic)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.topic: kind direct: must be the relay's topic shop.orders");
        Path withServers = write(direct.replace("kind: direct", "kind: direct\n  servers: x") + "  mode: wal\n" + CONSUME);
        assertThatThrownBy(() -> loader.load(withServers)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("transport.servers: kind direct has no transport");
    }

    @Test
    void theQueryRelayIsTheDefault() throws Exception {
        assertThat(loader.load(write(FILE)).relay().orElseThrow().wal()).isEmpty();
        assertThat(loader.load(write(FILE + "  mode: query\n")).relay().orElseThrow().wal()).isEmpty();
    }

    @Test
    void theHeartbeatIntervalDefaultsToOneSecondAndZeroTurnsHeartbeatsOff() throws Exception {
        assertThat(loader.load(write(FILE)).relay().orElseThrow().heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(loader.load(write(FILE + "  heartbeat_interval: 250ms\n")).relay().orElseThrow().heartbeatInterval())
                .isEqualTo(Duration.ofMillis(250));
        assertThat(loader.load(write(FILE + "  heartbeat_interval: 0\n")).relay().orElseThrow().heartbeatInterval())
                .isZero();
        Path bad = write(FILE + "  heartbeat_interval: often\n");
        assertThatThrownBy(() -> loader.load(bad)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("relay.heartbeat_interval: must be a duration");
    }

    @Test
    void walModeTakesSlotAndPublicationWithDefaultsFromTheSource() throws Exception {
        PipelineConfig.WalConfig defaults = loader.load(write(FILE + "  mode: wal\n")).relay().orElseThrow().wal().orElseThrow();
        assertThat(defaults).isEqualTo(new PipelineConfig.WalConfig("eventsync_orders_v1", "eventsync_orders_v1", false));

        PipelineConfig.WalConfig given = loader.load(write(FILE + "  mode: wal\n  slot: orders_slot\n"
                + "  publication: orders_pub\n  create_slot: true\n")).relay().orElseThrow().wal().orElseThrow();
        assertThat(given).isEqualTo(new PipelineConfig.WalConfig("orders_slot", "orders_pub", true));
    }

    @Test
    void walKeysWithoutWalModeAreRejected() throws Exception {
        Path file = write(FILE + "  slot: orders_slot\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":10: relay.slot: only with mode: wal");
    }

    @Test
    void walModeOnAnotherDatabaseIsRefusedWithTheReason() throws Exception {
        Path file = write(FILE.replace("jdbc:postgresql://127.0.0.1:5433/test", "jdbc:h2:mem:orders") + "  mode: wal\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":10: relay.mode: wal needs PostgreSQL")
                .hasMessageContaining("h2").hasMessageContaining("mode: query");
    }

    @Test
    void aBadSlotNameSaysTheRule() throws Exception {
        Path file = write(FILE + "  mode: wal\n  slot: Orders-Slot\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":11: relay.slot: ").hasMessageContaining("Orders-Slot")
                .hasMessageContaining("lower-case");
    }

    @Test
    void anUnknownModeListsTheModes() throws Exception {
        Path file = write(FILE + "  mode: cdc\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":10: relay.mode: must be one of").hasMessageContaining("wal")
                .hasMessageContaining("binlog");
    }

    @Test
    void binlogModeOnMariaDbTakesCreatePosition() throws Exception {
        String mariadb = FILE.replace("jdbc:postgresql://127.0.0.1:5433/test", "jdbc:mariadb://127.0.0.1:3307/shop");
        PipelineConfig.RelayConfig relay = loader.load(write(mariadb + "  mode: binlog\n")).relay().orElseThrow();
        assertThat(relay.binlog()).contains(new PipelineConfig.BinlogConfig(false));
        assertThat(relay.wal()).isEmpty();
        assertThat(loader.load(write(mariadb + "  mode: binlog\n  create_position: true\n")).relay().orElseThrow().binlog())
                .contains(new PipelineConfig.BinlogConfig(true));
        assertThat(loader.load(write(mariadb.replace("jdbc:mariadb:", "jdbc:mysql:") + "  mode: binlog\n")).relay()
                .orElseThrow().binlog()).isPresent();
        assertThat(loader.load(write(mariadb)).relay().orElseThrow().binlog()).isEmpty();
    }

    @Test
    void binlogModeOnAnotherDatabaseIsRefusedWithTheReason() throws Exception {
        Path file = write(FILE + "  mode: binlog\n");
        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":10: relay.mode: binlog needs MariaDB or MySQL")
                .hasMessageContaining("postgresql").hasMessageContaining("mode: query");
        Path positionWithoutBinlog = write(FILE + "  create_position: true\n");
        assertThatThrownBy(() -> loader.load(positionWithoutBinlog)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(positionWithoutBinlog + ":10: relay.create_position: only with mode: binlog");
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
