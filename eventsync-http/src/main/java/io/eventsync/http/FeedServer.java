package io.eventsync.http;

import com.google.protobuf.Descriptors.Descriptor;
import com.sun.net.httpserver.HttpServer;
import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.http.internal.ClientTokens;
import io.eventsync.http.internal.FeedEndpoint;
import io.eventsync.http.internal.RateLimiter;
import io.eventsync.http.internal.Representation;
import io.eventsync.http.internal.RequestRouter;
import io.eventsync.http.internal.SnapshotEndpoint;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a service's change feed and snapshots over HTTP, read-only, to clients holding a bearer token.
 *
 * <pre>
 * GET /v1/feeds/{topic}/events?from=&lt;offset&gt;&amp;limit=&lt;n&gt;&amp;wait=&lt;seconds&gt;  -&gt; FeedPage
 * GET /v1/snapshots/{name}?cursor=&lt;opaque&gt;&amp;limit=&lt;n&gt;                  -&gt; SnapshotPage
 * </pre>
 *
 * Responses are {@code application/x-protobuf} or {@code application/json} (protobuf JSON mapping) by
 * the Accept header; errors are a {@code Problem} with a reason. Build with {@link #builder()}, then
 * {@link #start()}; {@link #close()} stops it.
 *
 * <p>Threads: the JDK server's dispatcher plus {@code threads} named request workers
 * ({@code eventsync-http-server-N}). A long poll holds a worker for up to {@code maxWait}, so size
 * {@code threads} above the number of clients that long-poll at once.
 */
public final class FeedServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FeedServer.class);

    static {
        // The JDK server writes a response's headers and body as separate segments and leaves Nagle's
        // algorithm on unless this property is set: the body then waits for the client's delayed ACK
        // (~40 ms on Linux) on every response, which dominated feed freshness (p50 113 ms -> 27 ms in
        // HttpFeedBench). The JDK reads it once, when its first server is created, and offers no API;
        // an explicit setting by the application wins.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final Builder config;
    private HttpServer server;
    private ExecutorService workers;

    private FeedServer(Builder config) {
        // A private copy: changing the builder after build() must not reconfigure this server.
        this.config = config.copy();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds and starts serving; returns this. */
    public synchronized FeedServer start() {
        if (server != null) {
            throw new IllegalStateException("feed server already started on " + uri());
        }
        Representation representation = new Representation(config.jsonTypes);
        int defaultPageSize = Math.min(config.defaultPageSize, config.maxPageSize);
        FeedEndpoint feed = new FeedEndpoint(config.source, config.allTopics ? null : config.topics, defaultPageSize,
                config.maxPageSize, config.maxWait, representation);
        SnapshotEndpoint snapshots = new SnapshotEndpoint(config.snapshots, config.source, config.sourceName,
                defaultPageSize, config.maxPageSize, representation);
        RateLimiter limiter = new RateLimiter(config.requestsPerSecond, config.burst, System::nanoTime);
        RequestRouter router = new RequestRouter(new ClientTokens(config.clients), limiter, feed, snapshots,
                representation, config.meterRegistry);
        AtomicInteger n = new AtomicInteger();
        workers = new ThreadPoolExecutor(config.threads, config.threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "eventsync-http-server-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        try {
            server = HttpServer.create(new InetSocketAddress(config.bindAddress, config.port), 128);
        } catch (IOException e) {
            workers.shutdownNow();
            throw new EventsyncException("cannot bind the feed server to " + config.bindAddress + ":" + config.port
                    + " (" + e.getMessage() + "): choose a free port", e);
        }
        server.createContext("/", router);
        server.setExecutor(workers);
        server.start();
        log.info("feed server listening on {} serving feeds {} and snapshots {} to {} clients",
                uri(), config.allTopics ? "(all topics)" : config.topics, config.snapshots.keySet(), config.clients.size());
        return this;
    }

    /** The base URI clients use, e.g. {@code http://127.0.0.1:8321}. */
    public URI uri() {
        InetSocketAddress address = server.getAddress();
        return URI.create("http://" + address.getHostString() + ":" + address.getPort());
    }

    /** Stops accepting, gives in-flight requests (long polls included) {@code stopGrace} to finish, then stops. */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        server.stop((int) config.stopGrace.toSeconds());
        workers.shutdownNow();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("feed server workers did not stop within 5s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server = null;
    }

    public static final class Builder {
        private String bindAddress = "127.0.0.1";
        private int port = 0;
        private FeedSource source;
        private final Set<String> topics = new LinkedHashSet<>();
        private boolean allTopics;
        private final Map<String, SnapshotMapping> snapshots = new LinkedHashMap<>();
        private final Map<String, String> clients = new LinkedHashMap<>();
        private String sourceName;
        private int defaultPageSize = 100;
        private int maxPageSize = 1000;
        private Duration maxWait = Duration.ofSeconds(30);
        private double requestsPerSecond = 50;
        private int burst = 100;
        private int threads = 16;
        private Duration stopGrace = Duration.ZERO;
        private final List<Descriptor> jsonTypes = new ArrayList<>();
        private MeterRegistry meterRegistry = Metrics.globalRegistry; // as every eventsync component

        private Builder() {}

        /** Address to bind; default 127.0.0.1 (loopback only). Use 0.0.0.0 to serve other hosts. */
        public Builder bindAddress(String address) { this.bindAddress = address; return this; }
        /** TCP port; default 0 (any free port, see {@link FeedServer#uri()}). */
        public Builder port(int port) { this.port = port; return this; }
        /** The log the feeds are read from. Required. */
        public Builder source(FeedSource source) { this.source = source; return this; }
        /** The name put into snapshot envelopes as {@code source}; required when snapshots are served. */
        public Builder sourceName(String name) { this.sourceName = name; return this; }
        /** Serves {@code topic}'s log at {@code /v1/feeds/{topic}/events}. Only listed topics are served. */
        public Builder feed(String topic) { this.topics.add(topic); return this; }
        /** Serves every topic of the source's log (default: only those named with {@link #feed}). */
        public Builder allTopics() { this.allTopics = true; return this; }
        /** Serves a table at {@code /v1/snapshots/{mapping.name()}}. */
        public Builder snapshot(SnapshotMapping mapping) { this.snapshots.put(mapping.name(), mapping); return this; }
        /** Allows a client: requests with {@code Authorization: Bearer <token>} act as {@code client}. */
        public Builder client(String client, String token) { this.clients.put(token, client); return this; }
        /** Page size when a request gives no limit; default 100 (or maxPageSize when smaller). */
        public Builder defaultPageSize(int n) { this.defaultPageSize = n; return this; }
        /** Largest page; larger {@code limit}s are capped to it. Default 1000. */
        public Builder maxPageSize(int n) { this.maxPageSize = n; return this; }
        /** Longest long poll; larger {@code wait}s are capped to it. Default 30s. */
        public Builder maxWait(Duration d) { this.maxWait = d; return this; }
        /** Per-client token bucket: average requests per second and burst; over it, 429 with Retry-After. Default 50/s, 100. */
        public Builder rateLimit(double perSecond, int burst) { this.requestsPerSecond = perSecond; this.burst = burst; return this; }
        /** Request worker threads; default 16. */
        public Builder threads(int n) { this.threads = n; return this; }
        /** How long {@link #close()} lets requests in flight finish; default 0. */
        public Builder stopGrace(Duration d) { this.stopGrace = d; return this; }
        /** Payload types to render as fields in JSON answers; unknown ones are sent as base64 envelope bytes. */
        public Builder jsonType(Descriptor type) { this.jsonTypes.add(type); return this; }
        public Builder meterRegistry(MeterRegistry registry) { this.meterRegistry = registry; return this; }

        private Builder copy() {
            Builder b = new Builder();
            b.bindAddress = bindAddress;
            b.port = port;
            b.source = source;
            b.topics.addAll(topics);
            b.allTopics = allTopics;
            b.snapshots.putAll(snapshots);
            b.clients.putAll(clients);
            b.sourceName = sourceName;
            b.defaultPageSize = defaultPageSize;
            b.maxPageSize = maxPageSize;
            b.maxWait = maxWait;
            b.requestsPerSecond = requestsPerSecond;
            b.burst = burst;
            b.threads = threads;
            b.stopGrace = stopGrace;
            b.jsonTypes.addAll(jsonTypes);
            b.meterRegistry = meterRegistry;
            return b;
        }

        public FeedServer build() {
            if (source == null) {
                throw new ConfigException("source is required: the FeedSource (log) the feeds are read from");
            }
            if (topics.isEmpty() && !allTopics && snapshots.isEmpty()) {
                throw new ConfigException("feed or snapshot: the server must serve at least one feed or snapshot");
            }
            if (clients.isEmpty()) {
                throw new ConfigException("client: at least one client token is required (the API never serves anonymously)");
            }
            for (String token : clients.keySet()) {
                if (token == null || token.length() < 16 || token.chars().anyMatch(c -> c <= ' ')) {
                    throw new ConfigException("client token of '" + clients.get(token)
                            + "' must be at least 16 printable characters without spaces");
                }
            }
            if (!snapshots.isEmpty() && (sourceName == null || sourceName.isBlank())) {
                throw new ConfigException("sourceName is required when snapshots are served (it becomes the envelopes' source)");
            }
            check("port", port, port >= 0 && port <= 65535);
            check("defaultPageSize", defaultPageSize, defaultPageSize >= 1);
            check("maxPageSize", maxPageSize, maxPageSize >= 1 && maxPageSize <= 100_000);
            check("maxWait", maxWait, !maxWait.isNegative() && maxWait.toSeconds() <= 300);
            check("rateLimit.perSecond", requestsPerSecond, requestsPerSecond > 0);
            check("rateLimit.burst", burst, burst >= 1);
            check("threads", threads, threads >= 1 && threads <= 1000);
            check("stopGrace", stopGrace, !stopGrace.isNegative());
            return new FeedServer(this);
        }

        private static void check(String field, Object value, boolean ok) {
            if (!ok) {
                throw new ConfigException(field + " is out of range: " + value);
            }
        }
    }
}
