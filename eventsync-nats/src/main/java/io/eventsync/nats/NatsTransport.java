package io.eventsync.nats;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.nats.internal.ConnectionEvents;
import io.eventsync.transport.internal.NamedThreads;
import io.eventsync.transport.internal.OpenResources;
import io.eventsync.nats.internal.NatsPublisher;
import io.eventsync.nats.internal.NatsSubscription;
import io.eventsync.nats.internal.Redaction;
import io.eventsync.nats.internal.Slf4jErrorListener;
import io.eventsync.nats.internal.StreamTopology;
import io.eventsync.transport.internal.TransportMetrics;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.nats.client.api.RetentionPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transport over NATS JetStream.
 *
 * <h2>Topology</h2>
 * <ul>
 *   <li>One stream per topic, named {@code <streamPrefix><topic>} with every '.' of the topic turned into
 *       '_' (stream names may not contain '.'). The stream captures one subject,
 *       {@code <subjectPrefix>.<topic token>}; the event's key travels in the {@code Eventsync-Key}
 *       header, not in the subject, because keys are arbitrary strings and subject tokens are not.</li>
 *   <li>Each publish carries {@code Nats-Msg-Id} = the envelope id, so a resend inside the stream's
 *       duplicate window (a relay retry after a lost ack) is stored once.</li>
 *   <li>Each group is a durable pull consumer with explicit ack, an ack wait after which an unacked
 *       event is delivered again, and a max-deliver bound. {@code FANOUT}: every group has its own
 *       durable, so every group sees every event (limits or interest retention). {@code QUEUE}: the
 *       instances of a group share the group's durable and compete for its events; each event goes to
 *       one of them. With {@link RetentionPolicy#WorkQueue} the stream also deletes an event once
 *       acked; the server then allows one group per topic, which is what a work queue is.</li>
 * </ul>
 *
 * <h2>Per-key order</h2>
 * A durable delivers in stream order and the dispatcher acks in delivery order only after each event
 * and every earlier one is done, so one subscriber instance per group keeps per-key order; a
 * redelivery after the ack wait is a duplicate that the inbox drops. {@link io.eventsync.transport.Delivery#offset()} is
 * the consumer sequence (it grows with every delivery, redeliveries included), the partition is
 * {@code <stream>/<durable>}. When several instances of one group compete, JetStream (2.9) hands
 * them consecutive events in parallel; set {@link Builder#maxAckPending(int) maxAckPending(1)} for
 * strict per-key order across instances (one event in flight per group).
 *
 * <h2>Failures</h2>
 * The client reconnects on its own (unbounded attempts by default). Anything delivered but not acked,
 * including events lost in flight by a dropped connection, is delivered again once the ack wait
 * passes; after a reconnect a subscription pauses until such events are due again, so that they
 * arrive before newer ones (see {@code NatsSubscription}). Nothing is acked before the dispatcher
 * says so.
 *
 * <h2>What a consumer refuses</h2>
 * Anyone can publish to a topic's subject. A message with more than one or an empty
 * {@code Eventsync-Key} header, or with no data, is handed over with a
 * {@link io.eventsync.transport.Delivery#defect() defect} naming the header and its values, so it
 * becomes one dead letter instead of being decoded; only a single non-empty key header is a
 * {@link io.eventsync.transport.Delivery#transportKey() transport key}.
 */
public final class NatsTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(NatsTransport.class);

    private final Settings settings;
    private final Connection connection;
    private final StreamTopology topology;
    private final OpenResources resources = new OpenResources(
            r -> r instanceof NatsPublisher p && p.isClosed() || r instanceof NatsSubscription s && s.isClosed(), log);
    private final TransportMetrics metrics;
    private final Counter reconnects;

    private NatsTransport(Settings settings, Connection connection, MeterRegistry registry) {
        this.settings = settings;
        this.connection = connection;
        this.topology = new StreamTopology(connection, settings);
        this.metrics = new TransportMetrics(registry, "nats");
        this.reconnects = metrics.reconnects();
    }

    private void connectionRecovered() {
        reconnects.increment();
        for (AutoCloseable resource : resources) {
            if (resource instanceof NatsSubscription subscription) {
                subscription.connectionRecovered();
            }
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "nats";
    }

    /** The connection, for operations eventsync does not wrap (management, tests). */
    public Connection connection() {
        return connection;
    }

    /** The stream that holds {@code topic}. */
    public String streamName(String topic) {
        return topology.streamName(topic);
    }

    @Override
    public Publisher publisher(String topic) {
        SubscriptionSpec.fanout(topic, "publisher"); // validates the topic name
        String stream = topology.ensureStream(topic);
        NatsPublisher publisher = new NatsPublisher(connection, stream, topology.subject(topic),
                settings.maxEventBytes(), settings.publishTimeout(), metrics.sent(topic));
        resources.track(publisher);
        return publisher;
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        String stream = topology.ensureStream(spec.topic());
        String durable = topology.ensureConsumer(stream, spec);
        NatsSubscription subscription = NatsSubscription.start(connection, spec, stream, durable, handler,
                settings.fetchBatch(), settings.ackWait(), metrics.received(spec.topic(), spec.group()));
        resources.track(subscription);
        handler.onSubscribed(subscription);
        return subscription;
    }

    @Override
    public void close() {
        resources.closeAll();
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Everything a transport needs after {@link Builder#build()}; immutable.
     *
     * @param streamPrefix   prefix of stream names
     * @param subjectPrefix  first token(s) of every subject
     * @param replicas       stream replicas (1 for a single server, 3 for a cluster)
     * @param retention      stream retention: Limits (keep, replayable), Interest, WorkQueue
     * @param maxAge         how long a stream keeps events under Limits retention; zero = forever
     * @param duplicateWindow how long the server remembers event ids for dedup
     * @param ackWait        how long a delivery may stay unacked before it is delivered again
     * @param maxDeliver     attempts before the server stops redelivering an event; -1 = unbounded
     * @param maxAckPending  deliveries in flight per group durable
     * @param fetchBatch     events pulled per request
     * @param maxEventBytes  the largest encoded event accepted by publishers
     * @param publishTimeout how long a send waits for its ack before it fails
     */
    public record Settings(String streamPrefix, String subjectPrefix, int replicas, RetentionPolicy retention,
                           Duration maxAge, Duration duplicateWindow, Duration ackWait, long maxDeliver,
                           int maxAckPending, int fetchBatch, int maxEventBytes, Duration publishTimeout) {
    }

    /** Builds a {@link NatsTransport}; {@link #build()} validates and connects. */
    public static final class Builder {
        /** Room left below the server's max_payload for the headers (msg id, key). */
        static final int HEADER_ALLOWANCE = 1024;

        private final List<String> servers = new ArrayList<>();
        private String user;
        private char[] password;
        private char[] token;
        private Consumer<Options.Builder> options = b -> { };
        private String connectionName = "eventsync";
        private String streamPrefix = "eventsync_";
        private String subjectPrefix = "eventsync";
        private int replicas = 1;
        private RetentionPolicy retention = RetentionPolicy.Limits;
        private Duration maxAge = Duration.ZERO;
        private Duration duplicateWindow = Duration.ofMinutes(2);
        private Duration ackWait = Duration.ofSeconds(30);
        private long maxDeliver = -1;
        private int maxAckPending = 1000;
        private int fetchBatch = 256;
        private int maxEventBytes = -1;
        private Duration publishTimeout = Duration.ofSeconds(10);
        private Duration reconnectWait = Duration.ofMillis(500);
        private MeterRegistry meterRegistry = Metrics.globalRegistry;

        private Builder() {
        }

        /** A server URL such as {@code nats://127.0.0.1:4222}; repeat for a cluster. Default: localhost. */
        public Builder server(String url) {
            servers.add(Objects.requireNonNull(url, "url"));
            return this;
        }

        /** User and password; passed to the client, never logged. */
        public Builder credentials(String user, char[] password) {
            this.user = Objects.requireNonNull(user, "user");
            this.password = password.clone();
            return this;
        }

        /** Token authentication; passed to the client, never logged. */
        public Builder token(char[] token) {
            this.token = token.clone();
            return this;
        }

        /**
         * Anything else the NATS client supports (TLS, creds file via {@code authHandler}, NKeys),
         * applied after eventsync's own options.
         */
        public Builder options(Consumer<Options.Builder> customizer) {
            this.options = Objects.requireNonNull(customizer, "customizer");
            return this;
        }

        public Builder connectionName(String name) {
            this.connectionName = name;
            return this;
        }

        public Builder streamPrefix(String prefix) {
            this.streamPrefix = prefix;
            return this;
        }

        public Builder subjectPrefix(String prefix) {
            this.subjectPrefix = prefix;
            return this;
        }

        public Builder replicas(int replicas) {
            this.replicas = replicas;
            return this;
        }

        public Builder retention(RetentionPolicy retention) {
            this.retention = retention;
            return this;
        }

        public Builder maxAge(Duration maxAge) {
            this.maxAge = maxAge;
            return this;
        }

        public Builder duplicateWindow(Duration window) {
            this.duplicateWindow = window;
            return this;
        }

        public Builder ackWait(Duration ackWait) {
            this.ackWait = ackWait;
            return this;
        }

        public Builder maxDeliver(long maxDeliver) {
            this.maxDeliver = maxDeliver;
            return this;
        }

        public Builder maxAckPending(int maxAckPending) {
            this.maxAckPending = maxAckPending;
            return this;
        }

        public Builder fetchBatch(int fetchBatch) {
            this.fetchBatch = fetchBatch;
            return this;
        }

        /** Largest encoded event; default and upper bound: the server's max_payload minus 1 KiB for headers. */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        public Builder publishTimeout(Duration timeout) {
            this.publishTimeout = timeout;
            return this;
        }

        public Builder reconnectWait(Duration wait) {
            this.reconnectWait = wait;
            return this;
        }

        /** Where the transport's meters go; default {@link Metrics#globalRegistry}. */
        public Builder meterRegistry(MeterRegistry registry) {
            this.meterRegistry = registry;
            return this;
        }

        /** Validates the settings, connects, and checks them against the server's limits. */
        public NatsTransport build() {
            requireName("streamPrefix", streamPrefix, "[A-Za-z0-9_-]{0,64}");
            requireName("subjectPrefix", subjectPrefix, "[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");
            require("replicas", replicas, replicas >= 1 && replicas <= 5);
            require("retention", retention, retention != null);
            require("maxAge", maxAge, maxAge != null && !maxAge.isNegative());
            require("duplicateWindow", duplicateWindow, duplicateWindow != null && !duplicateWindow.isNegative());
            require("ackWait", ackWait, ackWait != null && ackWait.toMillis() >= 100);
            require("maxDeliver", maxDeliver, maxDeliver == -1 || maxDeliver >= 1);
            require("maxAckPending", maxAckPending, maxAckPending >= 1);
            require("fetchBatch", fetchBatch, fetchBatch >= 1);
            require("maxEventBytes", maxEventBytes, maxEventBytes == -1 || maxEventBytes >= 1);
            require("publishTimeout", publishTimeout, publishTimeout != null && publishTimeout.toMillis() >= 1);
            require("reconnectWait", reconnectWait, reconnectWait != null && !reconnectWait.isNegative());
            require("meterRegistry", meterRegistry, meterRegistry != null);
            require("connectionName", connectionName, connectionName != null && !connectionName.isBlank());

            ConnectionEvents listener = new ConnectionEvents();
            Connection connection = connect(listener);
            long serverMax = connection.getMaxPayload() - HEADER_ALLOWANCE;
            int effectiveMax = (int) Math.min(Integer.MAX_VALUE, serverMax);
            if (maxEventBytes > serverMax) {
                closeQuietly(connection);
                throw new ConfigException("maxEventBytes must not exceed the server's max_payload ("
                        + connection.getMaxPayload() + ") minus " + HEADER_ALLOWANCE
                        + " bytes for headers, but was: " + maxEventBytes
                        + "; raise max_payload in the NATS server configuration or lower maxEventBytes");
            }
            if (maxEventBytes != -1) {
                effectiveMax = maxEventBytes;
            }
            Settings settings = new Settings(streamPrefix, subjectPrefix, replicas, retention, maxAge,
                    duplicateWindow, ackWait, maxDeliver, maxAckPending, fetchBatch, effectiveMax, publishTimeout);
            NatsTransport transport = new NatsTransport(settings, connection, meterRegistry);
            listener.onRecovered(transport::connectionRecovered);
            return transport;
        }

        private Connection connect(ConnectionEvents listener) {
            Options.Builder b = new Options.Builder()
                    .connectionName(connectionName)
                    .maxReconnects(-1)
                    .reconnectWait(reconnectWait)
                    .connectionListener(listener)
                    .errorListener(new Slf4jErrorListener())
                    .connectThreadFactory(NamedThreads.factory("eventsync-nats-connect"))
                    .callbackThreadFactory(NamedThreads.factory("eventsync-nats-callback"));
            if (servers.isEmpty()) {
                b.server(Options.DEFAULT_URL);
            } else {
                b.servers(servers.toArray(String[]::new));
            }
            if (user != null) {
                b.userInfo(user.toCharArray(), password);
            }
            if (token != null) {
                b.token(token);
            }
            options.accept(b);
            try {
                return Nats.connect(b.build());
            } catch (IOException e) {
                // The client's message names the server URLs, credentials included: redact it, and do
                // not chain the original.
                throw new EventsyncException("Cannot connect to NATS at " + (servers.isEmpty()
                        ? Options.DEFAULT_URL : Redaction.redact(servers.toString())) + ": "
                        + Redaction.redact(e.getMessage()), Redaction.redacted(e));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EventsyncException("Interrupted while connecting to NATS", e);
            }
        }

        private static void closeQuietly(Connection connection) {
            try {
                connection.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void requireName(String field, String value, String regex) {
            require(field, value, value != null && value.matches(regex));
        }

        private static void require(String field, Object value, boolean ok) {
            if (!ok) {
                throw new ConfigException("NATS transport: invalid " + field + ": " + value);
            }
        }
    }
}
