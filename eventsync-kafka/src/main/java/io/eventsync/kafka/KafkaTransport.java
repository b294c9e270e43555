package io.eventsync.kafka;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.kafka.internal.ClientSettings;
import io.eventsync.kafka.internal.GroupProtocols;
import io.eventsync.kafka.internal.KafkaMetrics;
import io.eventsync.kafka.internal.KafkaPublisher;
import io.eventsync.kafka.internal.KafkaSubscription;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.GroupProtocol;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka transport: events in the CloudEvents Kafka binding (see {@link KafkaEncoding}), sent by an
 * idempotent producer with {@code acks=all}, keyed by {@link io.eventsync.transport.OutboundEvent#key()}
 * so each key stays in one partition and in order, and consumed by consumer groups that commit offsets
 * only for acknowledged work.
 *
 * <p>Delivery modes map onto consumer groups, Kafka's one mechanism for both: {@code group.id} is the
 * subscription's group in either mode. In {@link io.eventsync.transport.DeliveryMode#FANOUT FANOUT} each
 * group reads every event; in {@link io.eventsync.transport.DeliveryMode#QUEUE QUEUE} the competing
 * consumers of one group split the topic's partitions, so each event goes to one of them and the
 * parallelism is bounded by the partition count ({@link Builder#partitions(int)}). Kafka 4's share
 * groups would let consumers compete inside a partition, but they give up per-key order, which the
 * copies need, so they are not used.
 *
 * <pre>{@code
 * KafkaTransport kafka = KafkaTransport.builder()
 *         .bootstrapServers("broker1:9093")
 *         .clientProperty("security.protocol", "SASL_SSL")
 *         .clientProperty("sasl.mechanism", "SCRAM-SHA-512")
 *         .clientProperty("sasl.jaas.config", jaas)   // never logged
 *         .partitions(12)
 *         .build();
 * }</pre>
 */
public final class KafkaTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(KafkaTransport.class);
    /** Room for the record key, headers and batch framing around the encoded event. */
    private static final int RECORD_OVERHEAD_BYTES = 64 * 1024;
    /**
     * How long topic creation and its leader check may take: Kafka's own default.api.timeout.ms. A
     * shorter bound failed relays and consumers at start on a loaded machine for a topic that existed.
     */
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(60);
    static final int CLASSIC_SESSION_TIMEOUT_MS = 10_000;
    static final int CLASSIC_HEARTBEAT_INTERVAL_MS = 3_000;

    private final String bootstrapServers;
    private final Map<String, String> clientProperties;
    private final Optional<Integer> partitions;
    private final Optional<Short> replicationFactor;
    private final KafkaEncoding encoding;
    private final int maxEventBytes;
    private final int maxQueuedPerSubscription;
    private final Duration revokeTimeout;
    private final Duration commitInterval;
    private final KafkaMetrics metrics;
    private final GroupProtocols groupProtocols;
    private final Set<String> knownTopics = ConcurrentHashMap.newKeySet();
    private final Set<KafkaPublisher> publishers = ConcurrentHashMap.newKeySet();
    private final Set<KafkaSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicInteger> consumersPerGroup = new ConcurrentHashMap<>();
    private final Object adminLock = new Object();
    private Admin admin; // guarded by adminLock, created on first use
    private volatile boolean closed;

    private KafkaTransport(Builder builder) {
        this.bootstrapServers = builder.bootstrapServers;
        this.clientProperties = Map.copyOf(builder.clientProperties);
        this.partitions = Optional.ofNullable(builder.partitions);
        this.replicationFactor = Optional.ofNullable(builder.replicationFactor);
        this.encoding = builder.encoding;
        this.maxEventBytes = builder.maxEventBytes;
        this.maxQueuedPerSubscription = builder.maxQueuedPerSubscription;
        this.revokeTimeout = builder.revokeTimeout;
        this.commitInterval = builder.commitInterval;
        this.metrics = new KafkaMetrics(builder.meterRegistry);
        this.groupProtocols = new GroupProtocols(builder.groupProtocol);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks one client property as {@link Builder#build()} will, without connecting anywhere: refuses a
     * property eventsync sets itself, one no Kafka producer, consumer or admin client knows (naming the
     * closest known one) and a value that does not parse for its type. Messages never show the value of
     * a secret ({@link #isSecretClientProperty}). Also refuses a property the group protocol does not
     * accept (e.g. {@code session.timeout.ms} unless it is {@link KafkaGroupProtocol#CLASSIC}).
     *
     * @throws ConfigException naming the property and what is wrong
     */
    public static void checkClientProperty(String name, String value, KafkaGroupProtocol groupProtocol) {
        ClientSettings.check(name, value);
        ClientSettings.checkForProtocol(Set.of(name), groupProtocol);
    }

    /** True for a client property whose value is never logged: passwords, secrets, keys, JAAS, tokens. */
    public static boolean isSecretClientProperty(String name) {
        return ClientSettings.isSecret(name);
    }

    /** Client properties for logs and messages: {@code {name=value, ...}} with secret values {@code [hidden]}. */
    public static String describeClientProperties(Map<String, String> properties) {
        return ClientSettings.describe(properties);
    }

    @Override
    public String name() {
        return "kafka";
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public KafkaEncoding encoding() {
        return encoding;
    }

    @Override
    public Publisher publisher(String topic) {
        requireOpen();
        SubscriptionSpec.fanout(topic, "publisher"); // validates the topic name
        ensureTopic(topic);
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(producerConfig(topic));
        try {
            producer.partitionsFor(topic); // fetch metadata now, so the first send does not wait for it
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw new EventsyncException("cannot read the metadata of Kafka topic " + topic + " at "
                    + bootstrapServers + ": " + e.getMessage(), e);
        }
        KafkaPublisher publisher = new KafkaPublisher(topic, producer, encoding, maxEventBytes,
                metrics.publishing(topic), publishers::remove);
        publishers.add(publisher);
        return publisher;
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        requireOpen();
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        ensureTopic(spec.topic());
        int member = consumersPerGroup.computeIfAbsent(spec.group(), g -> new AtomicInteger()).incrementAndGet();
        String threadName = "eventsync-kafka-" + spec.group() + (member == 1 ? "" : "-" + member);
        KafkaSubscription subscription = new KafkaSubscription(spec, handler,
                protocol -> new KafkaConsumer<>(consumerConfig(spec, threadName, protocol)), groupProtocols, threadName,
                maxQueuedPerSubscription, revokeTimeout, commitInterval, metrics, subscriptions::remove);
        subscriptions.add(subscription);
        handler.onSubscribed(subscription);
        subscription.start();
        return subscription;
    }

    /** Closes every subscription (committing what was acknowledged), then every publisher (flushing). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        List.copyOf(subscriptions).forEach(KafkaSubscription::close);
        List.copyOf(publishers).forEach(KafkaPublisher::close);
        synchronized (adminLock) {
            if (admin != null) {
                admin.close(ADMIN_TIMEOUT);
                admin = null;
            }
        }
    }

    @Override
    public String toString() {
        return "KafkaTransport[" + bootstrapServers + ", encoding " + encoding + ", partitions "
                + partitions.map(String::valueOf).orElse("broker default") + ", group protocol "
                + groupProtocols.configured().name().toLowerCase(Locale.ROOT) + ", client properties "
                + ClientSettings.describe(clientProperties) + "]";
    }

    /** Creates the topic when it is missing, with the configured partitions and a matching size limit. */
    private void ensureTopic(String topic) {
        if (knownTopics.contains(topic)) {
            return;
        }
        NewTopic newTopic = new NewTopic(topic, partitions, replicationFactor)
                .configs(Map.of("max.message.bytes", Integer.toString(maxEventBytes + RECORD_OVERHEAD_BYTES)));
        boolean existed = false;
        try {
            admin().createTopics(List.of(newTopic)).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            log.info("created Kafka topic {} ({} partitions)", topic, partitions.map(String::valueOf).orElse("default"));
        } catch (ExecutionException e) {
            existed = e.getCause() instanceof TopicExistsException;
            if (!existed) {
                throw new EventsyncException("cannot create Kafka topic " + topic + " at " + bootstrapServers
                        + ": " + e.getCause(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new EventsyncException("creating Kafka topic " + topic + " at " + bootstrapServers
                    + " did not finish within " + ADMIN_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("interrupted while creating Kafka topic " + topic, e);
        }
        int count = awaitLeaders(topic);
        if (existed && partitions.isPresent() && partitions.get() != count) {
            // Adding partitions moves keys between them (and so breaks per-key order for events in flight):
            // an operator's decision, never done behind the user's back.
            log.warn("Kafka topic {} exists with {} partitions, not the {} configured; partitions applies only to"
                    + " topics eventsync creates", topic, count, partitions.get());
        }
        knownTopics.add(topic);
    }

    /**
     * Waits until every partition of a topic has a leader; returns the partition count. Right after creation a broker may still
     * answer NOT_LEADER_OR_FOLLOWER; an idempotent producer whose first batch hits that can end up
     * retrying OUT_OF_ORDER_SEQUENCE_NUMBER for a long time, so no publisher or consumer starts before.
     * Kafka has no notification for this, hence a short bounded poll of the metadata.
     */
    private int awaitLeaders(String topic) {
        long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
        long pauseMillis = 10;
        String missing = "no metadata yet";
        try {
            while (System.nanoTime() < deadline) {
                try {
                    TopicDescription description = admin().describeTopics(List.of(topic)).allTopicNames()
                            .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
                    List<Integer> leaderless = description.partitions().stream()
                            .filter(p -> p.leader() == null || p.leader().isEmpty())
                            .map(TopicPartitionInfo::partition).toList();
                    if (!description.partitions().isEmpty() && leaderless.isEmpty()) {
                        String unready = unreadyPartitions(topic, description);
                        if (unready == null) {
                            return description.partitions().size();
                        }
                        missing = unready;
                    } else {
                        missing = "partitions without a leader: " + leaderless;
                    }
                } catch (ExecutionException e) {
                    missing = String.valueOf(e.getCause());
                }
                Thread.sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 200);
            }
        } catch (TimeoutException e) {
            missing = "describeTopics timed out";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("interrupted while waiting for the leaders of Kafka topic " + topic, e);
        }
        throw new EventsyncException("Kafka topic " + topic + " at " + bootstrapServers + " has no leader for every"
                + " partition after " + ADMIN_TIMEOUT + " (" + missing + "); is the cluster healthy?");
    }

    /**
     * Null when every partition's leader answers for it (a list-offsets request, served by the leader's
     * replica manager as a produce is), else what is missing. The metadata can name a leader before that
     * broker has applied the partition; a first produce then fails with NOT_LEADER_OR_FOLLOWER, and an
     * idempotent producer whose later batch got in first retries the failed one with
     * OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout (KAFKA-15591): records late and out of order.
     */
    private String unreadyPartitions(String topic, TopicDescription description) throws InterruptedException, TimeoutException {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartitionInfo p : description.partitions()) {
            latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
        }
        try {
            admin().listOffsets(latest).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof RetriableException)) {
                log.debug("cannot check that the partitions of Kafka topic {} take writes; going on", topic, e.getCause());
                return null; // not allowed to ask, say: the producer finds out itself, as before this check
            }
            return "partitions not ready for writes yet: " + e.getCause();
        }
    }

    private Admin admin() {
        synchronized (adminLock) {
            if (admin == null) {
                Map<String, Object> config = commonConfig();
                config.put(CommonClientConfigs.CLIENT_ID_CONFIG, "eventsync-admin");
                admin = Admin.create(config);
            }
            return admin;
        }
    }

    private Map<String, Object> commonConfig() {
        Map<String, Object> config = new HashMap<>(clientProperties);
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return config;
    }

    private Map<String, Object> producerConfig(String topic) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        // send() must return at once (the relay pipelines); it blocks only for metadata or a full buffer,
        // and for at most this long before the send fails as transient and the relay retries it.
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "eventsync-publisher-" + topic);
        config.putAll(commonConfig()); // user tuning overrides the defaults above
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // Idempotence keeps per-partition order across retries with up to 5 requests in flight.
        config.putIfAbsent(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxEventBytes + RECORD_OVERHEAD_BYTES);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return config;
    }

    private Map<String, Object> consumerConfig(SubscriptionSpec spec, String clientId, GroupProtocol protocol) {
        Map<String, Object> config = new HashMap<>();
        // A new group starts at the beginning: a copy needs every event the topic still holds.
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // The poll thread never runs handlers, so it polls every 100 ms except while a revocation waits
        // for in-flight work (up to revokeTimeout, then a commit). The classic protocol also waits this
        // long for members to rejoin a rebalance: far below Kafka's 5 minutes, so a dead member cannot
        // hold a group up for long.
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG,
                (int) Math.max(30_000, revokeTimeout.toMillis() + 20_000));
        if (protocol == GroupProtocol.CLASSIC) {
            // Cooperative rebalancing moves only the partitions that change owner; the others keep flowing.
            config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
            // A member killed without leaving is noticed after this (Kafka's default: 45 s).
            config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, CLASSIC_SESSION_TIMEOUT_MS);
            config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, CLASSIC_HEARTBEAT_INTERVAL_MS);
        }
        // With the consumer protocol the broker owns session timeout, heartbeat and assignor
        // (group.consumer.* broker settings, or the group's consumer.session.timeout.ms).
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        config.putAll(commonConfig());
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol.name().toLowerCase(Locale.ROOT));
        config.put(ConsumerConfig.GROUP_ID_CONFIG, spec.group());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        return config;
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the Kafka transport to " + bootstrapServers + " is closed");
        }
    }

    /** Settings of a {@link KafkaTransport}; validated by {@link #build()}. */
    public static final class Builder {
        private String bootstrapServers;
        private final Map<String, String> clientProperties = new LinkedHashMap<>();
        private Integer partitions;
        private Short replicationFactor;
        private KafkaEncoding encoding = KafkaEncoding.BINARY;
        private KafkaGroupProtocol groupProtocol = KafkaGroupProtocol.AUTO;
        private int maxEventBytes = EnvelopeCodec.DEFAULT_MAX_BYTES;
        private int maxQueuedPerSubscription = 1_000;
        private Duration revokeTimeout = Duration.ofSeconds(10);
        private Duration commitInterval = Duration.ofMillis(100);
        private MeterRegistry meterRegistry = Metrics.globalRegistry;

        private Builder() {
        }

        /** Where the {@code eventsync.kafka.*} meters go; default {@link Metrics#globalRegistry}. */
        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.meterRegistry = meterRegistry;
            return this;
        }

        /** Required: {@code host:port[,host:port...]}, e.g. {@code LocalKafka.bootstrapServers()} (eventsync-kafka-local). */
        public Builder bootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
            return this;
        }

        /**
         * A Kafka client property for the producers, consumers and admin client: TLS ({@code ssl.*}),
         * SASL ({@code sasl.*}), {@code security.protocol}, or tuning such as {@code linger.ms}. Values of
         * secret properties (passwords, keys, JAAS) are never logged. Properties eventsync's guarantees
         * depend on ({@link ClientSettings#OWNED}) are refused.
         */
        public Builder clientProperty(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value of client property " + name);
            clientProperties.put(name, value);
            return this;
        }

        public Builder clientProperties(Map<String, String> properties) {
            properties.forEach(this::clientProperty);
            return this;
        }

        /** Partitions of the topics this transport creates; default: the broker's {@code num.partitions}. */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** Replication factor of the topics this transport creates; default: the broker's default. */
        public Builder replicationFactor(int replicationFactor) {
            this.replicationFactor = (short) replicationFactor;
            return this;
        }

        /** Binary (CloudEvents headers, the default) or structured (the whole envelope as the value). */
        public Builder encoding(KafkaEncoding encoding) {
            this.encoding = encoding;
            return this;
        }

        /**
         * The consumer group protocol; default {@link KafkaGroupProtocol#AUTO}: the consumer protocol
         * (KIP-848) when the cluster supports it, else the classic one.
         */
        public Builder groupProtocol(KafkaGroupProtocol groupProtocol) {
            this.groupProtocol = groupProtocol;
            return this;
        }

        /** Largest encoded event accepted; default {@link EnvelopeCodec#DEFAULT_MAX_BYTES}. */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        /** Records fetched but not yet handed out above which a subscription pauses fetching; default 1000. */
        public Builder maxQueuedPerSubscription(int maxQueued) {
            this.maxQueuedPerSubscription = maxQueued;
            return this;
        }

        /** How long a rebalance waits for in-flight deliveries of revoked partitions; default 10 s. */
        public Builder revokeTimeout(Duration revokeTimeout) {
            this.revokeTimeout = revokeTimeout;
            return this;
        }

        /** How often acknowledged offsets are committed while consuming; default 100 ms. */
        public Builder commitInterval(Duration commitInterval) {
            this.commitInterval = commitInterval;
            return this;
        }

        public KafkaTransport build() {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new ConfigException("bootstrapServers must be host:port[,host:port...], but was: " + bootstrapServers);
            }
            clientProperties.forEach(ClientSettings::check);
            if (partitions != null && partitions < 1) {
                throw new ConfigException("partitions must be at least 1, but was: " + partitions);
            }
            if (replicationFactor != null && replicationFactor < 1) {
                throw new ConfigException("replicationFactor must be at least 1, but was: " + replicationFactor);
            }
            Objects.requireNonNull(encoding, "encoding");
            if (groupProtocol == null) {
                throw new ConfigException("groupProtocol must be one of " + List.of(KafkaGroupProtocol.values())
                        + ", but was: null");
            }
            ClientSettings.checkForProtocol(clientProperties.keySet(), groupProtocol);
            if (maxEventBytes < 1 || maxEventBytes > 64 * 1024 * 1024) {
                throw new ConfigException("maxEventBytes must be between 1 and 67108864, but was: " + maxEventBytes);
            }
            if (maxQueuedPerSubscription < 1) {
                throw new ConfigException("maxQueuedPerSubscription must be at least 1, but was: " + maxQueuedPerSubscription);
            }
            requirePositive("revokeTimeout", revokeTimeout);
            requirePositive("commitInterval", commitInterval);
            Objects.requireNonNull(meterRegistry, "meterRegistry");
            KafkaTransport transport = new KafkaTransport(this);
            log.info("Kafka transport configured: {}", transport);
            return transport;
        }

        private static void requirePositive(String field, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new ConfigException(field + " must be a positive duration, but was: " + value);
            }
        }
    }
}
