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
    void applyConcurrencyDefaultsToTwicePerProcessorAndIsCheckedNamingTheField() throws Exception {
        assertThat(loader.load(write(VALID)).consume().orElseThrow().applyConcurrency())
                .isEqualTo(io.eventsync.dispatch.Dispatcher.defaultApplyConcurrency());
        assertThat(loader.load(write(VALID.replace("  group: billing", "  group: billing\n  apply_concurrency: 3")))
                .consume().orElseThrow().applyConcurrency()).isEqualTo(3);

        Path zero = write(VALID.replace("  group: billing", "  group: billing\n  apply_concurrency: 0"));
        assertThatThrownBy(() -> loader.load(zero)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(zero + ":11: consume.apply_concurrency: ");
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
                .hasMessageStartingWith(file + ":5: transport.kind: must be one of [direct, http, kafka, log, nats, rabbitmq]");
    }

    private static final String HTTP = VALID.replace("""
              kind: log
              database:
                jdbc_url: jdbc:h2:mem:orders
            """, """
              kind: http
              servers: http://orders:8321
              http: { token: "${FEED_TOKEN}", poll_wait: 5s, page_size: 200 }
            """);

    @Test
    void anHttpConsumerRebootstrapsFromTheNamedSnapshotWhenAsked() throws Exception {
        PipelineConfigLoader withToken = new PipelineConfigLoader(PipelineConfigs.transportKinds(),
                Map.of("DB_PASSWORD", "hunter2", "FEED_TOKEN", "token-of-the-billing-copy")::get);

        PipelineConfig plain = withToken.load(writeAs("plain.yaml", HTTP));
        PipelineConfig rebootstrap = withToken.load(writeAs("rebootstrap.yaml", HTTP.replace("  group: billing\n",
                "  group: billing\n  on_gone: rebootstrap\n  snapshot: orders\n")));

        assertThat(plain.transport().http().token().value()).isEqualTo("token-of-the-billing-copy");
        assertThat(plain.transport().http().toString()).doesNotContain("token-of-the-billing-copy");
        assertThat(plain.transport().http().pollWait()).contains(Duration.ofSeconds(5));
        assertThat(plain.transport().http().pageSize()).contains(200);
        assertThat(plain.consume().orElseThrow().rebootstrapSnapshot()).isEmpty();
        assertThat(rebootstrap.consume().orElseThrow().rebootstrapSnapshot()).contains("orders");
    }

    @Test
    void onGoneIsCheckedAndOnlyForTheHttpTransport() throws Exception {
        PipelineConfigLoader withToken = new PipelineConfigLoader(PipelineConfigs.transportKinds(),
                Map.of("DB_PASSWORD", "hunter2", "FEED_TOKEN", "token-of-the-billing-copy")::get);
        Path noSnapshot = writeAs("noSnapshot.yaml", HTTP.replace("  group: billing\n", "  group: billing\n  on_gone: rebootstrap\n"));
        Path typo = writeAs("typo.yaml", HTTP.replace("  group: billing\n", "  group: billing\n  on_gone: retry\n"));
        Path snapshotAlone = writeAs("snapshotAlone.yaml", HTTP.replace("  group: billing\n", "  group: billing\n  snapshot: orders\n"));
        Path onTheLog = writeAs("onTheLog.yaml", VALID.replace("  group: billing\n", "  group: billing\n  on_gone: fail\n"));
        Path queue = writeAs("queue.yaml", HTTP.replace("  group: billing\n", "  group: billing\n  mode: queue\n"));
        Path noToken = writeAs("noToken.yaml", HTTP.replace("http: { token: \"${FEED_TOKEN}\", poll_wait: 5s, page_size: 200 }",
                "http: { page_size: 200 }"));

        assertThatThrownBy(() -> withToken.load(noSnapshot)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.on_gone: rebootstrap needs 'snapshot'");
        assertThatThrownBy(() -> withToken.load(typo)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.on_gone:").hasMessageContaining("retry");
        assertThatThrownBy(() -> withToken.load(snapshotAlone)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.snapshot: only with on_gone: rebootstrap");
        assertThatThrownBy(() -> loader.load(onTheLog)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.on_gone: applies only to transport kind http");
        assertThatThrownBy(() -> withToken.load(queue)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("consume.mode: the http transport is fan-out only");
        assertThatThrownBy(() -> withToken.load(noToken)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("transport.http: missing required field 'token'");
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

        Path typo = writeAs("typo.yaml", VALID + "retention:\n  tombstone: 7d\n");
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

        Path typo = writeAs("typo.yaml", KAFKA.replace("group_protocol: auto", "group_protocol: kip848"));
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

        Path typo = writeAs("typo.yaml", KAFKA.replace("partitions: 6", "partition: 6"));
        assertThatThrownBy(() -> kafkaLoader.load(typo)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(typo + ":8: transport.kafka.partition: unknown field");
    }

    private Path writeAs(String name, String yaml) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, yaml);
        return file;
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
