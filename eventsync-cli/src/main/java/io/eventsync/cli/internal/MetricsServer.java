package io.eventsync.cli.internal;

import com.sun.net.httpserver.HttpServer;
import io.eventsync.EventsyncException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Serves {@code GET /metrics} in the Prometheus text format with the JDK's HTTP server. */
public final class MetricsServer implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;

    private MetricsServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    public static MetricsServer start(int port, PrometheusMeterRegistry registry) {
        return start(port, registry, java.util.List::of);
    }

    /**
     * Also serves {@code /health}: 200 {@code UP} when {@code problems} is empty, else 503 with one
     * problem a line (e.g. a copy's freshness past {@code --max-freshness}).
     */
    public static MetricsServer start(int port, PrometheusMeterRegistry registry,
                                      java.util.function.Supplier<java.util.List<String>> problems) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
            server.createContext("/metrics", exchange -> {
                byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.createContext("/health", exchange -> {
                java.util.List<String> found = problems.get();
                byte[] body = (found.isEmpty() ? "UP\n" : "DOWN\n" + String.join("\n", found) + "\n")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                exchange.sendResponseHeaders(found.isEmpty() ? 200 : 503, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "eventsync-metrics-http");
                t.setDaemon(true);
                return t;
            });
            server.setExecutor(executor);
            server.start();
            return new MetricsServer(server, executor);
        } catch (IOException e) {
            throw new EventsyncException("cannot serve metrics on port " + port + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
