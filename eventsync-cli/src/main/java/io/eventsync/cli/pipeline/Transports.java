package io.eventsync.cli.pipeline;

import io.eventsync.ConfigException;
import io.eventsync.kafka.KafkaTransport;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.nats.NatsTransport;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the broker transports by kind; the embedded log is opened by {@link Pipeline} (it needs a database). */
public final class Transports {
    private static final Logger log = LoggerFactory.getLogger(Transports.class);

    private Transports() {}

    /** Broker transport kinds accepted in {@code transport.kind} and by {@code demo --broker}. */
    public static Set<String> kinds() {
        return Set.of("kafka", "nats", "rabbitmq");
    }

    /**
     * Opens a broker transport. {@code servers}: Kafka bootstrap servers (null starts a local KRaft broker
     * in a child JVM, stopped with the transport), a NATS URL, or an AMQP URI
     * ({@code amqp://user:password@host:port/vhost}).
     */
    public static Transport open(String kind, String servers, String password, String clientName, MeterRegistry meters) {
        return connect(new PipelineConfig.TransportConfig(kind, null, servers, new PipelineConfig.Secret(
                password == null ? "" : password), PipelineConfig.KafkaSettings.DEFAULTS,
                PipelineConfig.NatsSettings.DEFAULTS, PipelineConfig.RabbitSettings.DEFAULTS,
                PipelineConfig.HttpSettings.NONE), clientName, meters);
    }

    static Transport open(PipelineConfig.TransportConfig config, String name, MeterRegistry meters) {
        return connect(config, "eventsync-" + name, meters);
    }

    private static Transport connect(PipelineConfig.TransportConfig config, String clientName, MeterRegistry meters) {
        String servers = config.servers();
        String password = config.password().value();
        return switch (config.kind()) {
            case "kafka" -> kafka(servers, config.kafka(), meters);
            case "nats" -> nats(servers, password, config.nats(), clientName, meters);
            case "rabbitmq" -> rabbit(servers, password, config.rabbit(), clientName, meters);
            default -> throw new ConfigException("transport kind must be one of log, http, " + kinds() + ", but was: "
                    + config.kind());
        };
    }

    private static Transport nats(String servers, String password, PipelineConfig.NatsSettings settings,
                                  String clientName, MeterRegistry meters) {
        NatsTransport.Builder b = NatsTransport.builder().server(servers).connectionName(clientName)
                .meterRegistry(meters);
        URI uri = uri(servers, "servers");
        if (uri.getUserInfo() != null && !uri.getUserInfo().isEmpty()) {
            String[] userPass = uri.getUserInfo().split(":", 2);
            b.credentials(decode(userPass[0]), (userPass.length > 1 ? decode(userPass[1]) : password).toCharArray());
        }
        if (!settings.token().value().isEmpty()) {
            b.token(settings.token().value().toCharArray());
        }
        settings.maxAckPending().ifPresent(b::maxAckPending);
        settings.replicas().ifPresent(b::replicas);
        settings.maxEventBytes().ifPresent(b::maxEventBytes);
        if (settings.credentialsFile().isPresent() || settings.tls().isPresent()) {
            javax.net.ssl.SSLContext tls = settings.tls().map(t -> TlsContexts.of(t, "transport.nats.tls")).orElse(null);
            b.options(o -> {
                settings.credentialsFile().ifPresent(f -> o.authHandler(io.nats.client.Nats.credentials(f.toString())));
                if (tls != null) {
                    o.sslContext(tls);
                }
            });
        }
        return b.build();
    }

    private static Transport kafka(String servers, PipelineConfig.KafkaSettings settings, MeterRegistry meters) {
        if (servers != null) {
            return kafkaBuilder(settings, meters).bootstrapServers(servers).build();
        }
        LocalKafka broker = LocalKafka.start();
        log.info("no bootstrap servers given: started a local Kafka broker at {}", broker.bootstrapServers());
        KafkaTransport transport = kafkaBuilder(settings, meters).bootstrapServers(broker.bootstrapServers()).build();
        return new OwningTransport(transport, broker);
    }

    private static KafkaTransport.Builder kafkaBuilder(PipelineConfig.KafkaSettings settings, MeterRegistry meters) {
        KafkaTransport.Builder builder = KafkaTransport.builder().meterRegistry(meters)
                .groupProtocol(settings.groupProtocol()).clientProperties(settings.clientProperties());
        settings.partitions().ifPresent(builder::partitions);
        settings.replicationFactor().ifPresent(builder::replicationFactor);
        settings.encoding().ifPresent(builder::encoding);
        settings.maxEventBytes().ifPresent(builder::maxEventBytes);
        return builder;
    }

    private static Transport rabbit(String uriText, String password, PipelineConfig.RabbitSettings settings,
                                    String clientName, MeterRegistry meters) {
        URI uri = uri(uriText, "servers");
        RabbitTransport.Builder b = RabbitTransport.builder().host(uri.getHost() == null ? "127.0.0.1" : uri.getHost())
                .connectionName(clientName).meterRegistry(meters);
        if (uri.getPort() > 0) {
            b.port(uri.getPort());
        }
        if (uri.getPath() != null && uri.getPath().length() > 1) {
            b.virtualHost(decode(uri.getPath().substring(1)));
        }
        if (uri.getUserInfo() != null && !uri.getUserInfo().isEmpty()) {
            String[] userPass = uri.getUserInfo().split(":", 2);
            b.credentials(decode(userPass[0]), (userPass.length > 1 ? decode(userPass[1]) : password).toCharArray());
        }
        settings.virtualHost().ifPresent(b::virtualHost);
        settings.partitions().ifPresent(b::partitions);
        settings.prefetch().ifPresent(b::prefetch);
        settings.maxEventBytes().ifPresent(b::maxEventBytes);
        boolean amqps = "amqps".equalsIgnoreCase(uri.getScheme());
        if (settings.tls().isPresent() || amqps) {
            javax.net.ssl.SSLContext tls = TlsContexts.of(settings.tls().orElse(PipelineConfig.TlsSettings.JVM_DEFAULT),
                    "transport.rabbitmq.tls");
            if (uri.getPort() <= 0) {
                b.port(5671); // AMQP over TLS
            }
            b.connectionFactory(f -> f.useSslProtocol(tls));
        }
        return b.build();
    }

    private static URI uri(String text, String field) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            // The message could contain a password: name the field, not the value.
            throw new ConfigException(field + " is not a valid URI (" + e.getReason() + ")");
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** A transport that also stops the local broker it runs on. */
    private record OwningTransport(Transport delegate, AutoCloseable owned) implements Transport {
        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public Publisher publisher(String topic) {
            return delegate.publisher(topic);
        }

        @Override
        public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
            return delegate.subscribe(spec, handler);
        }

        @Override
        public void close() {
            try {
                delegate.close();
            } finally {
                try {
                    owned.close();
                } catch (Exception e) {
                    log.warn("stopping the local Kafka broker failed: {}", e.toString());
                }
            }
        }
    }
}
