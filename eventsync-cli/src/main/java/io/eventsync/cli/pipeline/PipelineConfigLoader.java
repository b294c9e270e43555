package io.eventsync.cli.pipeline;

import io.eventsync.ConfigException;
import io.eventsync.cli.pipeline.PipelineConfig.ConsumeConfig;
import io.eventsync.cli.pipeline.PipelineConfig.Database;
import io.eventsync.cli.pipeline.PipelineConfig.KafkaSettings;
import io.eventsync.cli.pipeline.PipelineConfig.NatsSettings;
import io.eventsync.cli.pipeline.PipelineConfig.RabbitSettings;
import io.eventsync.cli.pipeline.PipelineConfig.RelayConfig;
import io.eventsync.cli.pipeline.PipelineConfig.RetentionConfig;
import io.eventsync.cli.pipeline.PipelineConfig.Secret;
import io.eventsync.cli.pipeline.PipelineConfig.TlsSettings;
import io.eventsync.cli.pipeline.PipelineConfig.TransportConfig;
import io.eventsync.cli.pipeline.PipelineConfig.BinlogConfig;
import io.eventsync.cli.pipeline.PipelineConfig.WalConfig;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.WalSlot;
import io.eventsync.kafka.KafkaGroupProtocol;
import io.eventsync.kafka.KafkaTransport;
import io.eventsync.transport.SubscriptionSpec;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads and validates a pipeline file. Every error is a {@link ConfigException} whose message starts
 * with {@code file:line: field:}; nothing connects to a database or broker here.
 */
public final class PipelineConfigLoader {
    private final Set<String> transportKinds;
    private final Function<String, String> env;

    /**
     * @param transportKinds the transports this build can run (others are rejected with the list)
     * @param env            environment lookup for {@code ${NAME}} substitution
     */
    public PipelineConfigLoader(Set<String> transportKinds, Function<String, String> env) {
        this.transportKinds = Set.copyOf(transportKinds);
        this.env = env;
    }

    public PipelineConfig load(Path file) {
        ConfigNode root = parse(file);
        root.allowOnly(Set.of("name", "types", "transport", "relay", "consume", "retention"));
        Map<String, ConfigNode> top = root.entries();
        String name = top.containsKey("name") ? name(top.get("name")) : "eventsync";
        TypeRegistry types = types(file, required(root, top, "types"));
        TransportConfig transport = transport(required(root, top, "transport"));
        RetentionConfig retention = top.containsKey("retention") ? retention(top.get("retention"), transport)
                : RetentionConfig.DEFAULTS;
        if (top.containsKey("relay") && transport.kind().equals("http")) {
            throw top.get("relay").error("transport kind http only reads a feed server's change feed; relay the"
                    + " source's outbox to its embedded log where the feed server runs (transport.kind: log)");
        }
        Optional<RelayConfig> relay = Optional.ofNullable(top.get("relay")).map(this::relay);
        Optional<ConsumeConfig> consume = Optional.ofNullable(top.get("consume"))
                .map(n -> consume(n, types, retention.tombstones(), transport.kind()));
        if (consume.isEmpty() && transport.kind().equals("http")) {
            throw root.error("transport kind http needs a consume section: it pulls a feed into copy tables");
        }
        if (relay.isEmpty() && consume.isEmpty()) {
            throw root.error("declare relay, consume or both: there is nothing to run");
        }
        if (transport.kind().equals("direct")) {
            ConfigNode kind = top.get("transport").entries().get("kind");
            if (relay.isEmpty() || relay.get().wal().isEmpty() || consume.isEmpty()) {
                throw kind.error("kind direct needs a relay with mode wal and a consume section: the WAL relay"
                        + " hands each event to the consumer in this process, and the slot is confirmed past the"
                        + " events the copy committed");
            }
            if (!relay.get().topic().equals(consume.get().topic())) {
                throw top.get("consume").entries().get("topic").error("kind direct: must be the relay's topic "
                        + relay.get().topic() + ", but is " + consume.get().topic());
            }
            if (consume.get().queue()) {
                throw top.get("consume").entries().get("mode").error("kind direct has one consumer per relay: use"
                        + " mode fanout (or a broker transport to share the events)");
            }
        }
        return new PipelineConfig(file, name, types, transport, relay, consume, retention);
    }

    /** The {@code retention} section: every key optional, defaults in {@link RetentionConfig#DEFAULTS}. */
    private static RetentionConfig retention(ConfigNode node, TransportConfig transport) {
        node.allowOnly(Set.of("log", "inbox", "tombstones", "every"));
        Map<String, ConfigNode> e = node.entries();
        RetentionConfig d = RetentionConfig.DEFAULTS;
        if (e.containsKey("log") && !transport.kind().equals("log")) {
            throw e.get("log").error("applies to the embedded log only (transport.kind: log), but the transport is "
                    + transport.kind() + "; its broker keeps its own retention");
        }
        Duration log = e.containsKey("log") ? e.get("log").duration() : d.log();
        if (log.isNegative()) {
            throw e.get("log").error("must be >= 0 (0: delete entries as soon as every group has passed them)");
        }
        return new RetentionConfig(log, positive(e, "inbox", d.inbox()), positive(e, "tombstones", d.tombstones()),
                positive(e, "every", d.every()));
    }

    private static Duration positive(Map<String, ConfigNode> entries, String field, Duration fallback) {
        if (!entries.containsKey(field)) {
            return fallback;
        }
        Duration value = entries.get(field).duration();
        if (value.isZero() || value.isNegative()) {
            throw entries.get(field).error("must be > 0");
        }
        return value;
    }

    private ConfigNode parse(Path file) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            Node node = new Yaml(options).compose(reader);
            if (node == null) {
                throw new ConfigException(file + ":1: the file is empty");
            }
            return new ConfigNode(file, "", node, env);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(file + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(file + ": not valid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read: " + e.getMessage());
        }
    }

    private static ConfigNode required(ConfigNode parent, Map<String, ConfigNode> entries, String field) {
        ConfigNode node = entries.get(field);
        if (node == null) {
            throw parent.error("missing required field '" + field + "'");
        }
        return node;
    }

    private static String name(ConfigNode node) {
        String value = node.nonBlank().trim();
        try {
            SubscriptionSpec.fanout(value, value); // the portable name alphabet used for topics and groups
        } catch (ConfigException e) {
            throw node.error("must be 1-200 letters, digits, '.', '_' or '-', but was '" + value + "'");
        }
        return value;
    }

    private TypeRegistry types(Path file, ConfigNode node) {
        node.allowOnly(Set.of("descriptor_set"));
        ConfigNode set = required(node, node.entries(), "descriptor_set");
        Path path = Path.of(set.nonBlank());
        if (!path.isAbsolute() && file.toAbsolutePath().getParent() != null) {
            path = file.toAbsolutePath().getParent().resolve(path);
        }
        try {
            return TypeRegistry.builder().addFileDescriptorSet(Files.readAllBytes(path)).build();
        } catch (NoSuchFileException e) {
            throw set.error("descriptor set file " + path + " does not exist (make it with: protoc --include_imports"
                    + " --descriptor_set_out=" + path.getFileName() + " your.proto)");
        } catch (IOException e) {
            throw set.error("cannot read " + path + ": " + e.getMessage());
        } catch (ConfigException e) {
            throw set.error(e.getMessage());
        }
    }

    private TransportConfig transport(ConfigNode node) {
        node.allowOnly(Set.of("kind", "database", "servers", "password", "kafka", "nats", "rabbitmq", "http"));
        Map<String, ConfigNode> e = node.entries();
        String kind = required(node, e, "kind").oneOf(transportKinds);
        Database database = null;
        String servers = null;
        if (kind.equals("log")) {
            database = database(required(node, e, "database"));
        } else if (kind.equals("direct")) {
            for (String field : List.of("database", "servers", "password")) {
                if (e.containsKey(field)) {
                    throw e.get(field).error("kind direct has no transport to connect to: the WAL relay hands its"
                            + " events to the consumer in this process; remove the field");
                }
            }
        } else if (e.containsKey("servers")) {
            servers = e.get("servers").nonBlank().trim();
        } else if (kind.equals("http")) {
            throw node.error("missing required field 'servers' (the feed server's base URL, e.g. http://orders:8321)");
        } else if (kind.equals("kafka")) {
            // A pipeline outlives a process; a throw-away local broker would lose its events on restart.
            throw node.error("missing required field 'servers' (the Kafka bootstrap servers, e.g. localhost:9092)");
        } else if (kind.equals("nats")) {
            servers = "nats://127.0.0.1:4222";
        } else if (kind.equals("rabbitmq")) {
            servers = "amqp://guest:guest@127.0.0.1:5672";
        }
        Secret password = e.containsKey("password") ? new Secret(e.get("password").text()) : new Secret("");
        KafkaSettings kafka = KafkaSettings.DEFAULTS;
        if (e.containsKey("kafka")) {
            if (!kind.equals("kafka")) {
                throw e.get("kafka").error("applies only to kind kafka, but kind is " + kind);
            }
            kafka = kafka(e.get("kafka"));
        }
        NatsSettings nats = NatsSettings.DEFAULTS;
        if (e.containsKey("nats")) {
            if (!kind.equals("nats")) {
                throw e.get("nats").error("applies only to kind nats, but kind is " + kind);
            }
            nats = nats(e.get("nats"));
        }
        RabbitSettings rabbit = RabbitSettings.DEFAULTS;
        if (e.containsKey("rabbitmq")) {
            if (!kind.equals("rabbitmq")) {
                throw e.get("rabbitmq").error("applies only to kind rabbitmq, but kind is " + kind);
            }
            rabbit = rabbit(e.get("rabbitmq"));
        }
        PipelineConfig.HttpSettings http = PipelineConfig.HttpSettings.NONE;
        if (kind.equals("http")) {
            if (!servers.startsWith("http://") && !servers.startsWith("https://")) {
                throw e.get("servers").error("kind http: must be the feed server's http:// or https:// base URL");
            }
            http = http(required(node, e, "http"));
        } else if (e.containsKey("http")) {
            throw e.get("http").error("applies only to kind http, but kind is " + kind);
        }
        return new TransportConfig(kind, database, servers, password, kafka, nats, rabbit, http);
    }

    /** {@code transport.http}: the token (a secret, never shown) and how the feed is pulled. */
    private static PipelineConfig.HttpSettings http(ConfigNode node) {
        node.allowOnly(Set.of("token", "page_size", "poll_wait"));
        Map<String, ConfigNode> e = node.entries();
        Secret token = new Secret(required(node, e, "token").nonBlank());
        Optional<Duration> pollWait = Optional.ofNullable(e.get("poll_wait")).map(n -> {
            Duration wait = n.duration();
            if (wait.toSeconds() < 1 || wait.toSeconds() > 300) {
                throw n.error("must be between 1s and 300s");
            }
            return wait;
        });
        return new PipelineConfig.HttpSettings(token,
                Optional.ofNullable(e.get("page_size")).map(n -> n.integer(1, 100_000)), pollWait);
    }

    /** {@code transport.nats}; the token and store passwords are secrets, never shown. */
    private NatsSettings nats(ConfigNode node) {
        node.allowOnly(Set.of("credentials_file", "token", "tls", "max_ack_pending", "replicas", "max_event_bytes"));
        Map<String, ConfigNode> e = node.entries();
        Optional<Path> creds = Optional.ofNullable(e.get("credentials_file")).map(this::existingFile);
        Secret token = e.containsKey("token") ? new Secret(e.get("token").nonBlank()) : new Secret("");
        if (creds.isPresent() && !token.value().isEmpty()) {
            throw e.get("token").error("give credentials_file or token, not both");
        }
        return new NatsSettings(creds, token, Optional.ofNullable(e.get("tls")).flatMap(this::tls),
                Optional.ofNullable(e.get("max_ack_pending")).map(n -> n.integer(1, 1_000_000)),
                Optional.ofNullable(e.get("replicas")).map(n -> n.integer(1, 5)),
                Optional.ofNullable(e.get("max_event_bytes")).map(n -> n.integer(1024, 64 << 20)));
    }

    /** {@code transport.rabbitmq}. */
    private RabbitSettings rabbit(ConfigNode node) {
        node.allowOnly(Set.of("virtual_host", "tls", "partitions", "prefetch", "max_event_bytes"));
        Map<String, ConfigNode> e = node.entries();
        return new RabbitSettings(Optional.ofNullable(e.get("virtual_host")).map(ConfigNode::nonBlank),
                Optional.ofNullable(e.get("tls")).flatMap(this::tls),
                Optional.ofNullable(e.get("partitions")).map(n -> n.integer(1, 1024)),
                Optional.ofNullable(e.get("prefetch")).map(n -> n.integer(1, 65_535)),
                Optional.ofNullable(e.get("max_event_bytes")).map(n -> n.integer(1024, 128 << 20)));
    }

    /** {@code tls: true|false}, or a block naming the trust store and key store; empty for {@code false}. */
    private Optional<TlsSettings> tls(ConfigNode node) {
        if (!node.isMapping()) {
            return node.bool() ? Optional.of(TlsSettings.JVM_DEFAULT) : Optional.empty();
        }
        node.allowOnly(Set.of("truststore", "truststore_password", "keystore", "keystore_password"));
        Map<String, ConfigNode> e = node.entries();
        Optional<Path> truststore = Optional.ofNullable(e.get("truststore")).map(this::existingFile);
        Optional<Path> keystore = Optional.ofNullable(e.get("keystore")).map(this::existingFile);
        if (keystore.isEmpty() && e.containsKey("keystore_password")) {
            throw e.get("keystore_password").error("only with keystore");
        }
        if (truststore.isEmpty() && e.containsKey("truststore_password")) {
            throw e.get("truststore_password").error("only with truststore");
        }
        Secret trustPassword = e.containsKey("truststore_password") ? new Secret(e.get("truststore_password").text())
                : new Secret("");
        Secret keyPassword = e.containsKey("keystore_password") ? new Secret(e.get("keystore_password").text())
                : new Secret("");
        return Optional.of(new TlsSettings(truststore, trustPassword, keystore, keyPassword));
    }

    /** A file the pipeline names, relative to the pipeline file's directory; it must exist. */
    private Path existingFile(ConfigNode node) {
        Path path = Path.of(node.nonBlank());
        Path dir = node.file().toAbsolutePath().getParent();
        if (!path.isAbsolute() && dir != null) {
            path = dir.resolve(path);
        }
        if (!Files.isRegularFile(path)) {
            throw node.error("file " + path + " does not exist");
        }
        return path;
    }

    /** {@code transport.kafka}; client property values may hold secrets, so no message here shows them. */
    private static KafkaSettings kafka(ConfigNode node) {
        node.allowOnly(Set.of("partitions", "replication_factor", "group_protocol", "client_properties", "encoding",
                "max_event_bytes"));
        Map<String, ConfigNode> e = node.entries();
        Optional<Integer> partitions = Optional.ofNullable(e.get("partitions")).map(n -> n.integer(1, 100_000));
        Optional<Integer> replication = Optional.ofNullable(e.get("replication_factor")).map(n -> n.integer(1, 32));
        KafkaGroupProtocol protocol = e.containsKey("group_protocol")
                ? KafkaGroupProtocol.valueOf(e.get("group_protocol").oneOf(Set.of("auto", "consumer", "classic"))
                        .toUpperCase(java.util.Locale.ROOT))
                : KafkaGroupProtocol.AUTO;
        Map<String, String> properties = new java.util.LinkedHashMap<>();
        if (e.containsKey("client_properties")) {
            for (Map.Entry<String, ConfigNode> property : e.get("client_properties").entries().entrySet()) {
                String value = property.getValue().text();
                try {
                    KafkaTransport.checkClientProperty(property.getKey(), value, protocol);
                } catch (ConfigException ex) {
                    throw property.getValue().error(ex.getMessage());
                }
                properties.put(property.getKey(), value);
            }
        }
        Optional<io.eventsync.kafka.KafkaEncoding> encoding = Optional.ofNullable(e.get("encoding"))
                .map(n -> io.eventsync.kafka.KafkaEncoding.valueOf(n.oneOf(Set.of("binary", "structured"))
                        .toUpperCase(java.util.Locale.ROOT)));
        Optional<Integer> maxEventBytes = Optional.ofNullable(e.get("max_event_bytes")).map(n -> n.integer(1024, 128 << 20));
        return new KafkaSettings(partitions, replication, protocol, properties, encoding, maxEventBytes);
    }

    private RelayConfig relay(ConfigNode node) {
        node.allowOnly(Set.of("source", "database", "topic", "mode", "slot", "publication", "create_slot",
                "create_position", "heartbeat_interval"));
        Map<String, ConfigNode> e = node.entries();
        String source = name(required(node, e, "source"));
        Database database = database(required(node, e, "database"));
        Duration heartbeats = RelayConfig.DEFAULT_HEARTBEAT_INTERVAL;
        if (e.containsKey("heartbeat_interval")) {
            ConfigNode interval = e.get("heartbeat_interval");
            heartbeats = interval.text().trim().equals("0") ? Duration.ZERO : interval.duration();
            if (heartbeats.isNegative()) {
                throw interval.error("must be 0 (no heartbeats) or a positive duration");
            }
        }
        return new RelayConfig(source, database, name(required(node, e, "topic")), wal(node, e, source, database),
                heartbeats, binlog(e, database));
    }

    /** {@code mode: binlog} and its key; empty for the other modes. */
    private static Optional<BinlogConfig> binlog(Map<String, ConfigNode> e, Database database) {
        if (!mode(e).equals("binlog")) {
            if (e.containsKey("create_position")) {
                throw e.get("create_position").error("only with mode: binlog (the position in the binlog to start from)");
            }
            return Optional.empty();
        }
        String url = database.jdbcUrl();
        if (!url.startsWith("jdbc:mariadb:") && !url.startsWith("jdbc:mysql:")) {
            throw e.get("mode").error("binlog needs MariaDB or MySQL (a row-format binary log), but relay.database is "
                    + url.replaceAll("^jdbc:([a-z0-9]+):.*", "$1") + "; use mode: query (or mode: wal on PostgreSQL)");
        }
        return Optional.of(new BinlogConfig(e.containsKey("create_position") && e.get("create_position").bool()));
    }

    private static String mode(Map<String, ConfigNode> e) {
        return e.containsKey("mode") ? e.get("mode").oneOf(Set.of("query", "wal", "binlog")) : "query";
    }

    /** {@code mode: wal} and its keys; empty for the query relay (the default). */
    private static Optional<WalConfig> wal(ConfigNode node, Map<String, ConfigNode> e, String source, Database database) {
        boolean wal = mode(e).equals("wal");
        if (!wal) {
            for (String key : List.of("slot", "publication", "create_slot")) {
                if (e.containsKey(key)) {
                    throw e.get(key).error("only with mode: wal (the query relay reads the outbox table)");
                }
            }
            return Optional.empty();
        }
        if (!database.jdbcUrl().startsWith("jdbc:postgresql:")) {
            throw e.get("mode").error("wal needs PostgreSQL (logical replication), but relay.database is "
                    + database.jdbcUrl().replaceAll("^jdbc:([a-z0-9]+):.*", "$1") + "; use mode: query");
        }
        String slot = e.containsKey("slot") ? e.get("slot").nonBlank().trim() : WalSlot.defaultSlot(source);
        String publication = e.containsKey("publication") ? e.get("publication").nonBlank().trim()
                : WalSlot.defaultPublication(source);
        try {
            WalSlot.requireSlotName(slot);
        } catch (ConfigException ex) {
            throw (e.containsKey("slot") ? e.get("slot") : node).error(ex.getMessage());
        }
        try {
            WalSlot.requirePublicationName(publication);
        } catch (ConfigException ex) {
            throw (e.containsKey("publication") ? e.get("publication") : node).error(ex.getMessage());
        }
        boolean create = e.containsKey("create_slot") && e.get("create_slot").bool();
        return Optional.of(new WalConfig(slot, publication, create));
    }

    private ConsumeConfig consume(ConfigNode node, TypeRegistry types, Duration tombstoneWindow, String transportKind) {
        node.allowOnly(Set.of("topic", "group", "mode", "database", "lanes", "apply_concurrency", "max_batch", "handler_timeout", "max_attempts",
                "create_tables", "mappings", "on_gone", "snapshot"));
        Map<String, ConfigNode> e = node.entries();
        String topic = name(required(node, e, "topic"));
        String group = name(required(node, e, "group"));
        boolean queue = e.containsKey("mode") && e.get("mode").oneOf(Set.of("fanout", "queue")).equals("queue");
        if (queue && transportKind.equals("http")) {
            throw e.get("mode").error("the http transport is fan-out only (one puller per group); use a broker for a queue");
        }
        Optional<String> rebootstrap = onGone(e, transportKind);
        Database database = database(required(node, e, "database"));
        int lanes = e.containsKey("lanes") ? e.get("lanes").integer(1, 256) : 8;
        int applyConcurrency = e.containsKey("apply_concurrency") ? e.get("apply_concurrency").integer(1, 1024)
                : Dispatcher.defaultApplyConcurrency();
        int maxBatch = e.containsKey("max_batch") ? e.get("max_batch").integer(1, 10_000) : Dispatcher.DEFAULT_MAX_BATCH;
        Duration timeout = e.containsKey("handler_timeout") ? e.get("handler_timeout").duration() : Duration.ofSeconds(30);
        if (timeout.isZero() || timeout.isNegative()) {
            throw e.get("handler_timeout").error("must be > 0");
        }
        int maxAttempts = e.containsKey("max_attempts") ? e.get("max_attempts").integer(1, 1000) : 10;
        boolean create = e.containsKey("create_tables") && e.get("create_tables").bool();
        List<CopyTable> tables = new ArrayList<>();
        List<ConfigNode> items = required(node, e, "mappings").items();
        if (items.isEmpty()) {
            throw e.get("mappings").error("must declare at least one mapping");
        }
        Set<String> seenTypes = new java.util.HashSet<>();
        for (ConfigNode item : items) {
            CopyTable table = mapping(item, types, tombstoneWindow);
            if (!seenTypes.add(table.payloadType().getFullName())) {
                throw item.error("payload type " + table.payloadType().getFullName()
                        + " is mapped twice; map each type once");
            }
            tables.add(table);
        }
        return new ConsumeConfig(topic, group, queue, database, lanes, applyConcurrency, maxBatch, timeout, maxAttempts, create, tables,
                rebootstrap);
    }

    /**
     * {@code on_gone: fail|rebootstrap} and {@code snapshot} (transport http only): the snapshot to bootstrap
     * again from when the feed no longer retains the group's position; empty for fail (the default).
     */
    private static Optional<String> onGone(Map<String, ConfigNode> e, String transportKind) {
        for (String key : List.of("on_gone", "snapshot")) {
            if (e.containsKey(key) && !transportKind.equals("http")) {
                throw e.get(key).error("applies only to transport kind http (a feed that answers 410 when it no"
                        + " longer retains the position), but the transport is " + transportKind);
            }
        }
        boolean rebootstrap = e.containsKey("on_gone")
                && e.get("on_gone").oneOf(Set.of("fail", "rebootstrap")).equals("rebootstrap");
        if (!rebootstrap) {
            if (e.containsKey("snapshot")) {
                throw e.get("snapshot").error("only with on_gone: rebootstrap (the snapshot to bootstrap again from)");
            }
            return Optional.empty();
        }
        if (!e.containsKey("snapshot")) {
            throw e.get("on_gone").error("rebootstrap needs 'snapshot': the name the source's feed server serves"
                    + " the topic's snapshot under");
        }
        return Optional.of(name(e.get("snapshot")));
    }

    private static CopyTable mapping(ConfigNode node, TypeRegistry types, Duration tombstoneWindow) {
        node.allowOnly(Set.of("type", "table", "key", "version_column", "columns"));
        Map<String, ConfigNode> e = node.entries();
        ConfigNode typeNode = required(node, e, "type");
        String typeName = typeNode.nonBlank().trim();
        var descriptor = types.find(typeName).orElseThrow(() -> typeNode.error("payload type '" + typeName
                + "' is not in the descriptor set (types.descriptor_set)"));
        ConfigNode tableNode = required(node, e, "table");
        CopyTable.Builder builder;
        try {
            builder = CopyTable.builder(descriptor, tableNode.nonBlank().trim());
        } catch (ConfigException ex) {
            throw tableNode.error(ex.getMessage());
        }
        ConfigNode key = required(node, e, "key");
        key.allowOnly(Set.of("column", "field", "from_subject"));
        Map<String, ConfigNode> k = key.entries();
        ConfigNode keyColumn = required(key, k, "column");
        try {
            if (k.containsKey("field")) {
                builder.key(keyColumn.nonBlank().trim(), k.get("field").nonBlank().trim());
            } else if (k.containsKey("from_subject") && k.get("from_subject").bool()) {
                builder.keyFromSubject(keyColumn.nonBlank().trim());
            } else {
                throw key.error("set 'field' (a payload field path) or 'from_subject: true'");
            }
        } catch (ConfigException ex) {
            throw ex.getMessage().startsWith(String.valueOf(key.line())) ? ex : key.error(ex.getMessage());
        }
        if (e.containsKey("version_column")) {
            builder.versionColumn(e.get("version_column").nonBlank().trim());
        }
        if (e.containsKey("columns")) {
            for (Map.Entry<String, ConfigNode> column : e.get("columns").entries().entrySet()) {
                try {
                    builder.column(column.getKey(), column.getValue().nonBlank().trim());
                } catch (ConfigException ex) {
                    throw column.getValue().error(ex.getMessage());
                }
            }
        }
        try {
            return builder.tombstoneWindow(tombstoneWindow).build();
        } catch (ConfigException ex) {
            throw node.error(ex.getMessage());
        }
    }

    private Database database(ConfigNode node) {
        node.allowOnly(Set.of("jdbc_url", "user", "password", "schema", "pool_size"));
        Map<String, ConfigNode> e = node.entries();
        ConfigNode url = required(node, e, "jdbc_url");
        String jdbcUrl = url.nonBlank().trim();
        if (!jdbcUrl.startsWith("jdbc:h2:") && !jdbcUrl.startsWith("jdbc:postgresql:")
                && !jdbcUrl.startsWith("jdbc:mariadb:") && !jdbcUrl.startsWith("jdbc:mysql:")) {
            throw url.error("must be a jdbc:h2:, jdbc:postgresql:, jdbc:mariadb: or jdbc:mysql: URL");
        }
        String user = e.containsKey("user") ? e.get("user").text() : null;
        Secret password = new Secret(e.containsKey("password") ? e.get("password").text() : "");
        String schema = null;
        if (e.containsKey("schema")) {
            schema = e.get("schema").nonBlank().trim();
            if (!io.eventsync.jdbc.SchemaNames.IDENTIFIER.matcher(schema).matches()) {
                throw e.get("schema").error("must be a plain SQL identifier, but was '" + schema + "'");
            }
        }
        int pool = e.containsKey("pool_size") ? e.get("pool_size").integer(1, 200) : 10;
        return new Database(jdbcUrl, user, password, schema, pool);
    }
}
