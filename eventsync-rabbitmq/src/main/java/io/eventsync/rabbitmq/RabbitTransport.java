package io.eventsync.rabbitmq;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.rabbitmq.internal.ChannelsOnlyRecovery;
import io.eventsync.transport.internal.NamedThreads;
import io.eventsync.transport.internal.OpenResources;
import io.eventsync.rabbitmq.internal.RabbitPublisher;
import io.eventsync.rabbitmq.internal.RabbitSubscription;
import io.eventsync.rabbitmq.internal.RabbitTopology;
import io.eventsync.rabbitmq.internal.RecoveryEvents;
import io.eventsync.transport.internal.TransportMetrics;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transport over RabbitMQ (AMQP 0-9-1).
 *
 * <h2>Topology (no plugin needed)</h2>
 * <ul>
 *   <li>A durable direct exchange per topic, {@code <prefix><topic>}. The publisher routes each event
 *       by its key: routing key = {@code floorMod(key.hashCode(), partitions)} (String.hashCode is
 *       specified, so every JVM agrees). This is the consistent-hash exchange done by the client, so the
 *       {@code rabbitmq_consistent_hash_exchange} plugin is not required.</li>
 *   <li>Per group, {@code partitions} durable queues {@code <prefix><topic>.<group>.<n>} (quorum by
 *       default), queue n bound with routing key n. {@code FANOUT}: the exchange copies every event to
 *       every group's queue. {@code QUEUE}: the instances of a group consume the same queues and
 *       compete; each event goes to one of them. The topology is the same for both modes; the mode says
 *       how the group is meant to be used.</li>
 *   <li>The exchange's alternate exchange {@code <prefix><topic>:unrouted} keeps events published
 *       before any group existed in a parking queue, so an event is never dropped for lack of a
 *       subscriber. The first group to subscribe after they were parked gets them, in their order and
 *       ahead of every newer event of their partition, even while a relay keeps publishing: they are
 *       moved to the group's parked queues {@code <queue>:parked}, which the group's consumers read
 *       to an end marker before the group's queues, and which are deleted once read.</li>
 * </ul>
 *
 * <h2>Per-key order</h2>
 * A key always maps to the same queue of a group, every queue has {@code x-single-active-consumer}:
 * however many instances subscribe, one consumer receives a queue's events, in queue order, and the
 * others stand by; when it dies its unacked events return to the head of the queue and the next
 * consumer takes over. The dispatcher acks in delivery order after apply. Parallelism across keys
 * comes from {@code partitions} (each queue's active consumer may be a different instance) and from
 * the dispatcher's lanes inside an instance (prefetch bounds what is in flight).
 *
 * <h2>Durability and failures</h2>
 * Publisher confirms (each send's future completes on the broker's ack; nack or return fails it),
 * persistent messages (delivery mode 2), mandatory publishing. Manual acks only. The client recovers
 * dropped connections and their channels on its own, and each partition's consumer then starts again
 * (parked queue first, if it is still there); events unacked at the drop are requeued by the broker and
 * delivered again; sends unconfirmed at the drop fail so the relay resends.
 *
 * <h2>What a consumer refuses</h2>
 * Anyone can publish to the exchange. A message whose {@code eventsync-key} header is not a non-empty
 * UTF-8 string, whose content type is not protobuf, whose content encoding is not identity, or whose
 * body is empty is handed over with a {@link io.eventsync.transport.Delivery#defect() defect} naming
 * the property and its value, so it becomes one dead letter instead of being decoded.
 */
public final class RabbitTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(RabbitTransport.class);

    /** RabbitMQ's default {@code max_message_size} (128 MiB); the broker refuses larger messages. */
    public static final int BROKER_DEFAULT_MAX_MESSAGE_SIZE = 128 * 1024 * 1024;

    /** Queue types a group's queues may have. */
    public enum QueueType { QUORUM, CLASSIC }

    private final Settings settings;
    private final Connection publishing;
    private final Connection consuming;
    private final ExecutorService consumerThreads;
    private final RabbitTopology topology;
    private final OpenResources resources = new OpenResources(
            r -> r instanceof RabbitPublisher p && p.isClosed() || r instanceof RabbitSubscription s && s.isClosed(), log);
    private final TransportMetrics metrics;

    private RabbitTransport(Settings settings, Connection publishing, Connection consuming,
                            ExecutorService consumerThreads, MeterRegistry registry) {
        this.settings = settings;
        this.metrics = new TransportMetrics(registry, "rabbitmq");
        RecoveryEvents recovery = new RecoveryEvents(metrics.reconnects());
        recovery.watch(publishing);
        recovery.watch(consuming);
        this.publishing = publishing;
        this.consuming = consuming;
        this.consumerThreads = consumerThreads;
        this.topology = new RabbitTopology(publishing, settings);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "rabbitmq";
    }

    /** The exchange that carries {@code topic}. */
    public String exchangeName(String topic) {
        return topology.exchange(topic);
    }

    /** The queues of a group, one per partition, plus nothing else. */
    public List<String> queueNames(SubscriptionSpec spec) {
        return topology.queues(spec);
    }

    /** Per partition, the queue that hands a group the events parked before it existed (deleted once read). */
    public List<String> parkedQueueNames(SubscriptionSpec spec) {
        return topology.parkedQueues(spec);
    }

    /** The parking queue of events published while no group was bound. */
    public String unroutedQueueName(String topic) {
        return topology.unrouted(topic);
    }

    /** The connection that publishes and declares, for operations eventsync does not wrap. */
    public Connection publishingConnection() {
        return publishing;
    }

    /** The connection that consumes. */
    public Connection consumingConnection() {
        return consuming;
    }

    @Override
    public Publisher publisher(String topic) {
        SubscriptionSpec.fanout(topic, "publisher"); // validates the topic name
        String exchange = topology.ensureExchange(topic);
        RabbitPublisher publisher = new RabbitPublisher(publishing, exchange, () -> topology.ensureExchange(topic),
                settings, metrics.sent(topic));
        resources.track(publisher);
        return publisher;
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        topology.ensureExchange(spec.topic());
        List<String> queues = topology.ensureGroup(spec);
        topology.moveParked(spec);
        RabbitSubscription subscription = RabbitSubscription.start(consuming, spec, queues,
                topology.parkedQueues(spec), handler, settings.prefetch(),
                metrics.received(spec.topic(), spec.group()));
        resources.track(subscription);
        handler.onSubscribed(subscription);
        return subscription;
    }

    @Override
    public void close() {
        if (!publishing.isOpen() || !consuming.isOpen()) {
            // Down or recovering: closing channels would wait for replies that cannot come. Aborting
            // ends recovery too; the broker requeues whatever is unacked.
            publishing.abort(1_000);
            consuming.abort(1_000);
        }
        resources.closeAll();
        for (Connection connection : List.of(consuming, publishing)) {
            if (!connection.isOpen()) {
                continue;
            }
            try {
                connection.close(5_000);
            } catch (IOException | RuntimeException e) {
                log.debug("Closing RabbitMQ connection failed", e);
            }
        }
        consumerThreads.shutdown();
        try {
            if (!consumerThreads.awaitTermination(5, TimeUnit.SECONDS)) {
                consumerThreads.shutdownNow();
            }
        } catch (InterruptedException e) {
            consumerThreads.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Everything a transport needs after {@link Builder#build()}; immutable.
     *
     * @param prefix         prefix of exchange and queue names
     * @param partitions     queues per group; a key always maps to the same one
     * @param queueType      type of the group queues
     * @param prefetch       unacked deliveries per queue consumer (basic.qos)
     * @param maxEventBytes  the largest encoded event accepted by publishers
     * @param publishTimeout how long a send waits for its confirm before it fails
     */
    public record Settings(String prefix, int partitions, QueueType queueType, int prefetch, int maxEventBytes,
                           Duration publishTimeout) {
    }

    /** Builds a {@link RabbitTransport}; {@link #build()} validates and connects. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 5672;
        private String virtualHost = "/";
        private String user = "guest";
        private char[] password = "guest".toCharArray();
        private Consumer<ConnectionFactory> factory = f -> { };
        private String connectionName = "eventsync";
        private String prefix = "eventsync.";
        private int partitions = 1;
        private QueueType queueType = QueueType.QUORUM;
        private int prefetch = 256;
        private int maxEventBytes = 16 * 1024 * 1024;
        private Duration publishTimeout = Duration.ofSeconds(10);
        private Duration recoveryInterval = Duration.ofSeconds(1);
        private MeterRegistry meterRegistry = Metrics.globalRegistry;

        private Builder() {
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder virtualHost(String virtualHost) {
            this.virtualHost = virtualHost;
            return this;
        }

        /** User and password; passed to the client, never logged. Default guest/guest. */
        public Builder credentials(String user, char[] password) {
            this.user = Objects.requireNonNull(user, "user");
            this.password = password.clone();
            return this;
        }

        /** Anything else the client supports (TLS, SASL, timeouts), applied after eventsync's own settings. */
        public Builder connectionFactory(Consumer<ConnectionFactory> customizer) {
            this.factory = Objects.requireNonNull(customizer, "customizer");
            return this;
        }

        public Builder connectionName(String name) {
            this.connectionName = name;
            return this;
        }

        /** Prefix of exchange and queue names; default {@code eventsync.}. */
        public Builder prefix(String prefix) {
            this.prefix = prefix;
            return this;
        }

        /** Queues per group (parallelism across keys between instances); publishers and subscribers must agree. */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        public Builder queueType(QueueType type) {
            this.queueType = type;
            return this;
        }

        public Builder prefetch(int prefetch) {
            this.prefetch = prefetch;
            return this;
        }

        /** Largest encoded event; at most the broker's max_message_size (default 128 MiB). Default 16 MiB. */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        public Builder publishTimeout(Duration timeout) {
            this.publishTimeout = timeout;
            return this;
        }

        /** Wait between attempts to recover a dropped connection. */
        public Builder recoveryInterval(Duration interval) {
            this.recoveryInterval = interval;
            return this;
        }

        /** Where the transport's meters go; default {@link Metrics#globalRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /** Validates the settings and opens the connections (one for publishing, one for consuming). */
        public RabbitTransport build() {
            require("host", host, host != null && !host.isBlank());
            require("port", port, port >= 1 && port <= 65535);
            require("virtualHost", virtualHost, virtualHost != null && !virtualHost.isEmpty());
            require("prefix", prefix, prefix != null && prefix.matches("[A-Za-z0-9._-]{0,50}"));
            require("partitions", partitions, partitions >= 1 && partitions <= 1024);
            require("queueType", queueType, queueType != null);
            require("prefetch", prefetch, prefetch >= 1 && prefetch <= 65535);
            require("maxEventBytes", maxEventBytes, maxEventBytes >= 1 && maxEventBytes <= BROKER_DEFAULT_MAX_MESSAGE_SIZE);
            require("publishTimeout", publishTimeout, publishTimeout != null && publishTimeout.toMillis() >= 1);
            require("recoveryInterval", recoveryInterval, recoveryInterval != null && !recoveryInterval.isNegative());
            require("meterRegistry", meterRegistry, meterRegistry != null);
            require("connectionName", connectionName, connectionName != null && !connectionName.isBlank());

            ConnectionFactory cf = new ConnectionFactory();
            cf.setHost(host);
            cf.setPort(port);
            cf.setVirtualHost(virtualHost);
            cf.setUsername(user);
            cf.setPassword(new String(password));
            cf.setAutomaticRecoveryEnabled(true);
            cf.setTopologyRecoveryEnabled(true);
            cf.setTopologyRecoveryFilter(new ChannelsOnlyRecovery());
            cf.setNetworkRecoveryInterval(recoveryInterval.toMillis());
            cf.setThreadFactory(NamedThreads.factory("eventsync-rabbit-io"));
            // A delivery may block the handler; the larger inbound limit lets maxEventBytes events in.
            cf.setMaxInboundMessageBodySize(Math.max(maxEventBytes, 64 * 1024 * 1024));
            factory.accept(cf);
            // Consumer callbacks run here; a cached pool so a blocking handler on one queue never
            // starves another queue's deliveries.
            ExecutorService consumerThreads = Executors.newCachedThreadPool(NamedThreads.factory("eventsync-rabbit-consumer"));
            Connection publishing = null;
            try {
                publishing = cf.newConnection(connectionName + "-publish");
                Connection consuming = cf.newConnection(consumerThreads, connectionName + "-consume");
                Settings settings = new Settings(prefix, partitions, queueType, prefetch, maxEventBytes, publishTimeout);
                return new RabbitTransport(settings, publishing, consuming, consumerThreads, meterRegistry);
            } catch (IOException | TimeoutException e) {
                consumerThreads.shutdownNow();
                closeQuietly(publishing);
                throw new EventsyncException("Cannot connect to RabbitMQ at " + host + ":" + port + " vhost "
                        + virtualHost + " as " + user + ": " + e.getMessage(), e);
            }
        }

        private static void closeQuietly(Connection connection) {
            if (connection != null) {
                try {
                    connection.abort();
                } catch (RuntimeException ignored) {
                    // best effort on a failed start
                }
            }
        }

        private static void require(String field, Object value, boolean ok) {
            if (!ok) {
                throw new ConfigException("RabbitMQ transport: invalid " + field + ": " + value);
            }
        }
    }
}
