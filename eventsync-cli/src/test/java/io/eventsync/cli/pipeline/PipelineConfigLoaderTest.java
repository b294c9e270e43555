package io.eventsync.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.ConfigException;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.kafka.KafkaGroupProtocol;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineConfigLoaderTest {
    private static final String VALID = """
            name: orders-to-billing
            types:
              descriptor_set: orders.desc
            transport:
              kind: log
              database:
                jdbc_url: jdbc:h2:mem:orders
            consume:
              topic: shop.orders
              group: billing
              database:
                jdbc_url: jdbc:h2:mem:billing
                user: sa
                password: ${DB_PASSWORD}
              mappings:
                - type: shop.orders.v1.OrderPlaced
                  table: billing_orders
                  key: { column: order_id, field: order_id }
                  columns:
                    amount_cents: amount_cents
            """;

    @TempDir
    Path dir;

    private final PipelineConfigLoader loader = new PipelineConfigLoader(PipelineConfigs.transportKinds(),
            Map.of("DB_PASSWORD", "hunter2")::get);

    @BeforeEach
    void descriptorSet() throws Exception {
        Files.write(dir.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    @Test
    void aValidFileLoadsWithTheSecretFromTheEnvironmentAndNeverPrintsIt() throws Exception {
        PipelineConfig config = loader.load(write(VALID));

        PipelineConfig.Database db = config.consume().orElseThrow().database();
        assertThat(db.password().value()).isEqualTo("hunter2");
        assertThat(db.toString()).doesNotContain("hunter2");
        assertThat(config.consume().orElseThrow().tables()).hasSize(1);
        assertThat(config.relay()).isEmpty();
    }

    @Test
    void anUnknownPayloadFieldIsReportedWithFileLineAndField() throws Exception {
        Path file = write(VALID.replace("amount_cents: amount_cents", "amount_cents: amount"));

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":20: consume.mappings[0].columns.amount_cents: ")
                .hasMessageContaining("amount");
    }

    @Test
    void aTypoInAFieldNameIsRejectedNotIgnored() throws Exception {
        Path file = write(VALID.replace("  group: billing", "  gruop: billing"));

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":10: consume.gruop: unknown field");
    }

    @Test
    void aTypeMissingFromTheDescriptorSetNamesTheType() throws Exception {
        Path file = write(VALID.replace("shop.orders.v1.OrderPlaced", "shop.orders.v1.OrderLost"));

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":16: consume.mappings[0].type: ")
                .hasMessageContaining("shop.orders.v1.OrderLost");
    }

    @Test
    void aMissingEnvironmentVariableNamesTheVariableAndTheField() throws Exception {
        PipelineConfigLoader noEnv = new PipelineConfigLoader(PipelineConfigs.transportKinds(), name -> null);
        Path file = write(VALID);

        assertThatThrownBy(() -> noEnv.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":14: consume.database.password: ")
                .hasMessageContaining("DB_PASSWORD");
    }

    @Test
    void brokenYamlNamesTheLine() throws Exception {
        Path file = write("name: x\ntypes: [unclosed\n");

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(file + ":").hasMessageContaining("not valid YAML");
    }

    @Test
    void anUnknownTransportListsTheKnownOnes() throws Exception {
        Path file = write(VALID.replace("kind: log", "kind: pigeon"));

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":5: transport.kind: must be one of [kafka, log, nats, rabbitmq]");
    }

    @Test
    void retentionDefaultsToADayOfLogAndAWeekOfInboxAndTombstones() throws Exception {
        PipelineConfig config = loader.load(write(VALID));

        assertThat(config.retention()).isEqualTo(new PipelineConfig.RetentionConfig(Duration.ofDays(1),
                Duration.ofDays(7), Duration.ofDays(7), Duration.ofMinutes(1)));
        assertThat(config.consume().orElseThrow().tables().get(0).tombstoneWindow()).isEqualTo(Duration.ofDays(7));
    }

    @Test
    void retentionKeysSetTheLogTheDedupWindowTheTombstonesAndTheInterval() throws Exception {
        PipelineConfig config = loader.load(write(VALID + """
                retention:
                  log: 2h
                  inbox: 14d
                  tombstones: 30d
                  every: 30s
                """));

        assertThat(config.retention()).isEqualTo(new PipelineConfig.RetentionConfig(Duration.ofHours(2),
                Duration.ofDays(14), Duration.ofDays(30), Duration.ofSeconds(30)));
        assertThat(config.consume().orElseThrow().tables().get(0).tombstoneWindow()).isEqualTo(Duration.ofDays(30));
    }

    @Test
    void aRetentionWindowOfZeroOrATypoIsRefusedNamingTheField() throws Exception {
        Path zero = write(VALID + "retention:\n  inbox: 0s\n");
        assertThatThrownBy(() -> loader.load(zero)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(zero + ":22: retention.inbox: must be > 0");

        Path typo = write(VALID + "retention:\n  tombstone: 7d\n");
        assertThatThrownBy(() -> loader.load(typo)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(typo + ":22: retention.tombstone: unknown field");

        Path word = write(VALID + "retention:\n  every: often\n");
        assertThatThrownBy(() -> loader.load(word)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(word + ":22: retention.every: must be a duration").hasMessageContaining("often");
    }

    @Test
    void logRetentionOnABrokerTransportIsRefused() throws Exception {
        Path file = write(VALID.replace("""
                  kind: log
                  database:
                    jdbc_url: jdbc:h2:mem:orders
                """, """
                  kind: nats
                """) + "retention:\n  log: 1h\n");

        assertThatThrownBy(() -> loader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":20: retention.log: applies to the embedded log only");
    }

    private static final String KAFKA = VALID.replace("""
              kind: log
              database:
                jdbc_url: jdbc:h2:mem:orders
            """, """
              kind: kafka
              servers: 127.0.0.1:9092
              kafka:
                partitions: 6
                replication_factor: 3
                group_protocol: auto
                client_properties:
                  security.protocol: SASL_SSL
                  sasl.jaas.config: ${KAFKA_JAAS}
                  linger.ms: 5
                encoding: structured
                max_event_bytes: 2097152
            """);

    private final PipelineConfigLoader kafkaLoader = new PipelineConfigLoader(PipelineConfigs.transportKinds(),
            Map.of("DB_PASSWORD", "hunter2", "KAFKA_JAAS", "ScramLoginModule required password=\"t0ps3cret\";")::get);

    @Test
    void kafkaSettingsLoadWithSecretsFromTheEnvironmentThatNeverPrint() throws Exception {
        PipelineConfig config = kafkaLoader.load(write(KAFKA));

        PipelineConfig.KafkaSettings kafka = config.transport().kafka();
        assertThat(kafka.partitions()).contains(6);
        assertThat(kafka.replicationFactor()).contains(3);
        assertThat(kafka.groupProtocol()).isEqualTo(KafkaGroupProtocol.AUTO);
        assertThat(kafka.encoding()).contains(io.eventsync.kafka.KafkaEncoding.STRUCTURED);
        assertThat(kafka.maxEventBytes()).contains(2_097_152);
        assertThat(kafka.clientProperties()).containsEntry("sasl.jaas.config", "ScramLoginModule required password=\"t0ps3cret\";")
                .containsEntry("linger.ms", "5").containsEntry("security.protocol", "SASL_SSL");
        assertThat(config.toString()).doesNotContain("t0ps3cret").contains("sasl.jaas.config=[hidden]")
                .contains("linger.ms=5").contains("partitions=6");
    }

    @Test
    void withoutAKafkaSectionTheBrokerDefaultsApply() throws Exception {
        PipelineConfig config = kafkaLoader.load(write(VALID.replace("""
              kind: log
              database:
                jdbc_url: jdbc:h2:mem:orders
            """, """
              kind: kafka
              servers: 127.0.0.1:9092
            """)));

        assertThat(config.transport().kafka()).isEqualTo(PipelineConfig.KafkaSettings.DEFAULTS);
        assertThat(config.transport().kafka().partitions()).isEmpty();
    }

    @Test
    void anUnknownClientPropertyIsReportedWithFileLineAndTheClosestName() throws Exception {
        Path file = write(KAFKA.replace("linger.ms: 5", "lingr.ms: 5"));

        assertThatThrownBy(() -> kafkaLoader.load(file)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":14: transport.kafka.client_properties.lingr.ms: ")
                .hasMessageContaining("not a Kafka client property").hasMessageContaining("did you mean linger.ms?");
    }

    @Test
    void aClientPropertyWithABadValueNamesItAndASecretValueIsNeverShown() throws Exception {
        Path badNumber = write(KAFKA.replace("linger.ms: 5", "linger.ms: soon"));
        assertThatThrownBy(() -> kafkaLoader.load(badNumber)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(badNumber + ":14: transport.kafka.client_properties.linger.ms: ")
                .hasMessageContaining("soon");

        Path owned = write(KAFKA.replace("linger.ms: 5", "key.serializer: ${KAFKA_JAAS}"));
        assertThatThrownBy(() -> kafkaLoader.load(owned)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("key.serializer").hasMessageContaining("set by eventsync")
                .hasMessageNotContaining("t0ps3cret");
    }

    @Test
    void aClassicOnlyPropertyNeedsTheClassicProtocol() throws Exception {
        Path auto = write(KAFKA.replace("linger.ms: 5", "session.timeout.ms: 6000"));
        assertThatThrownBy(() -> kafkaLoader.load(auto)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(auto + ":14: transport.kafka.client_properties.session.timeout.ms: ")
                .hasMessageContaining("classic");

        PipelineConfig classic = kafkaLoader.load(write(KAFKA.replace("linger.ms: 5", "session.timeout.ms: 6000")
                .replace("group_protocol: auto", "group_protocol: classic")));
        assertThat(classic.transport().kafka().groupProtocol()).isEqualTo(KafkaGroupProtocol.CLASSIC);

        Path typo = write(KAFKA.replace("group_protocol: auto", "group_protocol: kip848"));
        assertThatThrownBy(() -> kafkaLoader.load(typo)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(typo + ":10: transport.kafka.group_protocol: must be one of [auto, classic, consumer]");
    }

    @Test
    void kafkaSettingsAreRefusedForAnotherTransportAndBadCountsAreNamed() throws Exception {
        Path nats = write(KAFKA.replace("kind: kafka", "kind: nats"));
        assertThatThrownBy(() -> kafkaLoader.load(nats)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(nats + ":8: transport.kafka: applies only to kind kafka, but kind is nats");

        Path zero = write(KAFKA.replace("partitions: 6", "partitions: 0"));
        assertThatThrownBy(() -> kafkaLoader.load(zero)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(zero + ":8: transport.kafka.partitions: must be between 1 and 100000, but was 0");

        Path typo = write(KAFKA.replace("partitions: 6", "partition: 6"));
        assertThatThrownBy(() -> kafkaLoader.load(typo)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(typo + ":8: transport.kafka.partition: unknown field");
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
