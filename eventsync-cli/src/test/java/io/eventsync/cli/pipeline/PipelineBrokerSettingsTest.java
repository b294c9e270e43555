package io.eventsync.cli.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import io.eventsync.ConfigException;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Transport;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code transport.nats} and {@code transport.rabbitmq}: credentials, TLS and queue settings for real
 * clusters, secrets from the environment that never print, and {@code file:line: field:} errors.
 */
class PipelineBrokerSettingsTest {
    private static final String PIPELINE = """
            name: brokers
            types:
              descriptor_set: orders.desc
            transport:
            %s
            consume:
              topic: shop.orders
              group: billing
              database:
                jdbc_url: jdbc:h2:mem:billing
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
            Map.of("NATS_TOKEN", "s3cr3t-token", "TS_PASSWORD", "changeit")::get);

    @BeforeEach
    void files() throws Exception {
        Files.write(dir.resolve("orders.desc"), FileDescriptorSet.newBuilder()
                .addFile(OrderPlaced.getDescriptor().getFile().toProto()).build().toByteArray());
    }

    private Path write(String transport) throws Exception {
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, PIPELINE.formatted(transport.stripTrailing().indent(2).stripTrailing()));
        return file;
    }

    @Test
    void natsSettingsLoadWithTheTokenHidden() throws Exception {
        Files.writeString(dir.resolve("ca.p12"), "not read while loading");
        PipelineConfig config = loader.load(write("""
                kind: nats
                servers: tls://nats.example:4222
                nats:
                  token: ${NATS_TOKEN}
                  tls:
                    truststore: ca.p12
                    truststore_password: ${TS_PASSWORD}
                  max_ack_pending: 1
                  replicas: 3
                  max_event_bytes: 2097152
                """));
        PipelineConfig.NatsSettings nats = config.transport().nats();
        assertThat(nats.token().value()).isEqualTo("s3cr3t-token");
        assertThat(nats.tls()).get().satisfies(tls -> {
            assertThat(tls.truststore()).contains(dir.resolve("ca.p12"));
            assertThat(tls.truststorePassword().value()).isEqualTo("changeit");
            assertThat(tls.keystore()).isEmpty();
        });
        assertThat(nats.maxAckPending()).contains(1);
        assertThat(nats.replicas()).contains(3);
        assertThat(nats.maxEventBytes()).contains(2_097_152);
        assertThat(config.toString()).doesNotContain("s3cr3t-token").doesNotContain("changeit");
    }

    @Test
    void rabbitSettingsLoad() throws Exception {
        PipelineConfig config = loader.load(write("""
                kind: rabbitmq
                servers: amqps://app@rabbit.example
                rabbitmq:
                  virtual_host: /prod
                  tls: true
                  partitions: 8
                  prefetch: 256
                """));
        PipelineConfig.RabbitSettings rabbit = config.transport().rabbit();
        assertThat(rabbit.virtualHost()).contains("/prod");
        assertThat(rabbit.tls()).contains(PipelineConfig.TlsSettings.JVM_DEFAULT);
        assertThat(rabbit.partitions()).contains(8);
        assertThat(rabbit.prefetch()).contains(256);
        assertThat(config.transport().nats()).isEqualTo(PipelineConfig.NatsSettings.DEFAULTS);
    }

    @Test
    void mistakesAreNamedWithFileLineAndField() throws Exception {
        Path missing = write("""
                kind: nats
                nats:
                  credentials_file: app.creds
                """);
        assertThatThrownBy(() -> loader.load(missing)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(missing + ":7: transport.nats.credentials_file: file ")
                .hasMessageContaining("app.creds does not exist");

        Files.writeString(dir.resolve("app.creds"), "-----BEGIN NATS USER JWT-----");
        Path both = write("""
                kind: nats
                nats:
                  credentials_file: app.creds
                  token: ${NATS_TOKEN}
                """);
        assertThatThrownBy(() -> loader.load(both)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(both + ":8: transport.nats.token: give credentials_file or token, not both")
                .hasMessageNotContaining("s3cr3t-token");

        Path wrongKind = write("""
                kind: nats
                rabbitmq:
                  prefetch: 10
                """);
        assertThatThrownBy(() -> loader.load(wrongKind)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(wrongKind + ":7: transport.rabbitmq: applies only to kind rabbitmq, but kind is nats");

        Path badTls = write("""
                kind: rabbitmq
                rabbitmq:
                  tls: maybe
                """);
        assertThatThrownBy(() -> loader.load(badTls)).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(badTls + ":7: transport.rabbitmq.tls: must be true or false, but was 'maybe'");

        Path orphanPassword = write("""
                kind: rabbitmq
                rabbitmq:
                  tls: { keystore_password: x }
                """);
        assertThatThrownBy(() -> loader.load(orphanPassword)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("transport.rabbitmq.tls.keystore_password: only with keystore");

        Path unknown = write("""
                kind: nats
                nats:
                  max_ack_pendng: 1
                """);
        assertThatThrownBy(() -> loader.load(unknown)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("transport.nats")
                .hasMessageContaining("max_ack_pendng");
    }

    @Test
    void aTrustStoreIsReadAndAWrongPasswordIsNamedWithoutThePassword() throws Exception {
        Path store = dir.resolve("ca.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-dname", "CN=test-ca", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", "changeit")
                .redirectErrorStream(true).start();
        assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keytool.exitValue()).as(new String(keytool.getInputStream().readAllBytes())).isZero();

        PipelineConfig.TlsSettings good = new PipelineConfig.TlsSettings(Optional.of(store),
                new PipelineConfig.Secret("changeit"), Optional.empty(), new PipelineConfig.Secret(""));
        assertThat(TlsContexts.of(good, "transport.nats.tls").getProtocol()).isEqualTo("TLS");

        PipelineConfig.TlsSettings wrong = new PipelineConfig.TlsSettings(Optional.of(store),
                new PipelineConfig.Secret("wr0ng-pass"), Optional.empty(), new PipelineConfig.Secret(""));
        assertThatThrownBy(() -> TlsContexts.of(wrong, "transport.nats.tls")).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("transport.nats.tls.truststore: cannot read PKCS12 store " + store)
                .hasMessageNotContaining("wr0ng-pass");
    }

    @Test
    void natsSettingsReachARealServer() throws Exception {
        // max_ack_pending and max_event_bytes take effect on a real connection to the local NATS server.
        PipelineConfig config = loader.load(write("""
                kind: nats
                servers: nats://127.0.0.1:4222
                nats:
                  max_ack_pending: 1
                  max_event_bytes: 4096
                """));
        String topic = "brokers-" + UUID.randomUUID().toString().substring(0, 8);
        try (Transport transport = Transports.open(config.transport(), "brokers-test", new SimpleMeterRegistry());
             Publisher publisher = transport.publisher(topic)) {
            assertThat(publisher.maxEventBytes()).isEqualTo(4096);
            Envelope event = io.eventsync.envelope.Events.create("shop", "o-1", 1,
                    OrderPlaced.newBuilder().setOrderId("o-1").build());
            publisher.send(new OutboundEvent(event, event.toByteArray())).get(30, TimeUnit.SECONDS);
        }
    }
}
