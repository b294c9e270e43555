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
        return open(kind, servers, password, clientName, PipelineConfig.KafkaSettings.DEFAULTS, meters);
    }

    private static Transport open(String kind, String servers, String password, String clientName,
                                  PipelineConfig.KafkaSettings kafka, MeterRegistry meters) {
        return switch (kind) {
            case "kafka" -> kafka(servers, kafka, meters);
            case "nats" -> {
                NatsTransport.Builder b = NatsTransport.builder().server(servers).connectionName(clientName)
                        .meterRegistry(meters);
                URI uri = uri(servers, "servers");
                if (uri.getUserInfo() != null && !uri.getUserInfo().isEmpty()) {
                    String[] userPass = uri.getUserInfo().split(":", 2);
                    b.credentials(decode(userPass[0]), (userPass.length > 1 ? decode(userPass[1]) : password).toCharArray());
                }
                yield b.build();
            }
            case "rabbitmq" -> rabbit(servers, password, clientName, meters);
            default -> throw new ConfigException("transport kind must be one of log, " + kinds() + ", but was: " + kind);
        };
    }

    static Transport open(PipelineConfig.TransportConfig config, String name, MeterRegistry meters) {
        return open(config.kind(), config.servers(), config.password().value(), "eventsync-" + name,
                config.kafka(), meters);
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
        return builder;
    }

    private static Transport rabbit(String uriText, String password, String clientName, MeterRegistry meters) {
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
