package io.eventsync.cli.pipeline;

import io.eventsync.envelope.TypeRegistry;
import io.eventsync.kafka.KafkaGroupProtocol;
import io.eventsync.kafka.KafkaTransport;
import io.eventsync.jdbc.CopyTable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A validated pipeline: what {@code eventsync run} relays and/or consumes. Built only by
 * {@link PipelineConfigLoader}, which has checked every field (types against the descriptor set,
 * columns, names) before anything connects anywhere.
 */
public record PipelineConfig(Path file, String name, TypeRegistry types, TransportConfig transport,
                             Optional<RelayConfig> relay, Optional<ConsumeConfig> consume, RetentionConfig retention) {

    /** A password or other secret: never printed, logged or put in an error message. */
    public record Secret(String value) {
        @Override
        public String toString() {
            return value.isEmpty() ? "" : "****";
        }
    }

    /** A database to connect to. {@code schema} null means the connection's current schema. */
    public record Database(String jdbcUrl, String user, Secret password, String schema, int poolSize) {}

    /**
     * The transport: {@code log} (the embedded log, in {@code database}), {@code kafka}
     * ({@code servers} = bootstrap servers), {@code nats} ({@code servers} = URL), {@code rabbitmq}
     * ({@code servers} = AMQP URI) or {@code http} ({@code servers} = a feed server's base URL; consume only).
     */
    public record TransportConfig(String kind, Database database, String servers, Secret password,
                                  KafkaSettings kafka, NatsSettings nats, RabbitSettings rabbit, HttpSettings http) {}

    /** {@code transport.http}: the bearer token the feed server issued to this copy, and pulling settings. */
    public record HttpSettings(Secret token, Optional<Integer> pageSize, Optional<Duration> pollWait) {
        public static final HttpSettings NONE = new HttpSettings(new Secret(""), Optional.empty(), Optional.empty());
    }

    /**
     * TLS towards a broker: the JVM's trust store when both stores are empty ({@code tls: true}); a trust
     * store of the broker's CA and, for mutual TLS, a key store with the client's certificate. PKCS12,
     * or JKS for a {@code .jks} file.
     */
    public record TlsSettings(Optional<Path> truststore, Secret truststorePassword, Optional<Path> keystore,
                              Secret keystorePassword) {
        public static final TlsSettings JVM_DEFAULT =
                new TlsSettings(Optional.empty(), new Secret(""), Optional.empty(), new Secret(""));
    }

    /**
     * {@code transport.nats}: authentication beyond the URL's user and password (a {@code .creds} file of
     * NATS decentralized auth, or a token), TLS, and stream/consumer settings; empty: the defaults.
     */
    public record NatsSettings(Optional<Path> credentialsFile, Secret token, Optional<TlsSettings> tls,
                               Optional<Integer> maxAckPending, Optional<Integer> replicas,
                               Optional<Integer> maxEventBytes) {
        public static final NatsSettings DEFAULTS = new NatsSettings(Optional.empty(), new Secret(""), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** {@code transport.rabbitmq}: virtual host (instead of the URI's path), TLS, queues; empty: the defaults. */
    public record RabbitSettings(Optional<String> virtualHost, Optional<TlsSettings> tls, Optional<Integer> partitions,
                                 Optional<Integer> prefetch, Optional<Integer> maxEventBytes) {
        public static final RabbitSettings DEFAULTS = new RabbitSettings(Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    /**
     * {@code transport.kafka}: how {@code run} creates a missing topic ({@code partitions},
     * {@code replication_factor}; empty: the broker's defaults), the consumer group protocol, and client
     * properties passed to every Kafka client (already checked against the clients' known names and
     * types, {@code ${ENV}} resolved). Printing it hides the values of secret properties.
     */
    public record KafkaSettings(Optional<Integer> partitions, Optional<Integer> replicationFactor,
                                KafkaGroupProtocol groupProtocol, Map<String, String> clientProperties,
                                Optional<io.eventsync.kafka.KafkaEncoding> encoding, Optional<Integer> maxEventBytes) {
        public static final KafkaSettings DEFAULTS =
                new KafkaSettings(Optional.empty(), Optional.empty(), KafkaGroupProtocol.AUTO, Map.of(), Optional.empty(),
                        Optional.empty());

        public KafkaSettings {
            clientProperties = Collections.unmodifiableMap(new LinkedHashMap<>(clientProperties));
        }

        @Override
        public String toString() {
            return "KafkaSettings[partitions=" + partitions.map(String::valueOf).orElse("broker default")
                    + ", replicationFactor=" + replicationFactor.map(String::valueOf).orElse("broker default")
                    + ", groupProtocol=" + groupProtocol + ", encoding=" + encoding.map(String::valueOf).orElse("binary")
                    + ", maxEventBytes=" + maxEventBytes.map(String::valueOf).orElse("default") + ", clientProperties="
                    + KafkaTransport.describeClientProperties(clientProperties) + "]";
        }
    }

    /**
     * Relay the outbox of {@code source} in {@code database} to {@code topic}: with the query relay, from
     * the write-ahead log when {@code wal} is present ({@code relay.mode: wal}), or from the binlog when
     * {@code binlog} is ({@code relay.mode: binlog}).
     */
    public record RelayConfig(String source, Database database, String topic, Optional<WalConfig> wal,
                              Duration heartbeatInterval, Optional<BinlogConfig> binlog) {
        /** A heartbeat a second unless {@code heartbeat_interval} says otherwise (0: none). */
        public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);
    }

    /** {@code relay.mode: wal}: the replication slot and publication, and whether to create them on a first run. */
    public record WalConfig(String slot, String publication, boolean createSlot) {}

    /** {@code relay.mode: binlog}: whether to store the current end of the binlog as the start on a first run. */
    public record BinlogConfig(boolean createPosition) {}

    /**
     * How long what eventsync writes is kept: embedded-log entries every group has passed ({@code log},
     * zero: as soon as they are passed), the inbox's dedup window, the copy tables' tombstones; checked
     * {@code every} interval.
     */
    public record RetentionConfig(Duration log, Duration inbox, Duration tombstones, Duration every) {
        public static final RetentionConfig DEFAULTS = new RetentionConfig(Duration.ofDays(1), Duration.ofDays(7),
                Duration.ofDays(7), Duration.ofMinutes(1));
    }

    /**
     * Consume {@code topic} as {@code group} into copy tables of {@code database}. {@code rebootstrapSnapshot}
     * (transport http, {@code on_gone: rebootstrap}): the snapshot that bootstraps the copy again when the
     * feed no longer retains the group's position; empty: the subscription stops and reports it.
     */
    public record ConsumeConfig(String topic, String group, boolean queue, Database database, int lanes,
                                int applyConcurrency, int maxBatch, Duration handlerTimeout, int maxAttempts, boolean createTables,
                                List<CopyTable> tables, Optional<String> rebootstrapSnapshot) {}
}
