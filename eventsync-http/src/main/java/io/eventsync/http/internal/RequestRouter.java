package io.eventsync.http.internal;

import com.google.protobuf.Message;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.eventsync.http.v1.Problem;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every request passes here: read-only check, bearer token, per-client rate limit, routing, content
 * negotiation; any refusal becomes a {@link Problem} body with a 4xx status and a clear reason.
 */
public final class RequestRouter implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestRouter.class);
    private static final Pattern FEED = Pattern.compile("/v1/feeds/([A-Za-z0-9][A-Za-z0-9._-]{0,199})/events");
    private static final Pattern SNAPSHOT = Pattern.compile("/v1/snapshots/([A-Za-z0-9][A-Za-z0-9._-]{0,199})");

    private final ClientTokens tokens;
    private final RateLimiter limiter;
    private final FeedEndpoint feed;
    private final SnapshotEndpoint snapshots;
    private final Representation representation;
    private final MeterRegistry meters;

    public RequestRouter(ClientTokens tokens, RateLimiter limiter, FeedEndpoint feed, SnapshotEndpoint snapshots,
                         Representation representation, MeterRegistry meters) {
        this.tokens = tokens;
        this.limiter = limiter;
        this.feed = feed;
        this.snapshots = snapshots;
        this.representation = representation;
        this.meters = meters;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        long start = System.nanoTime();
        String endpoint = "unknown";
        String client = "anonymous";
        int status;
        MediaType media = MediaType.JSON;
        // The request body is never read: GET has none, and a large body sent with another method must not
        // cost memory before it is refused (closing the exchange discards it).
        try (exchange) {
            try {
                URI uri = exchange.getRequestURI();
                Matcher feedPath = FEED.matcher(uri.getPath());
                Matcher snapshotPath = SNAPSHOT.matcher(uri.getPath());
                endpoint = feedPath.matches() ? "feed" : snapshotPath.matches() ? "snapshot" : "unknown";
                if (!"GET".equals(exchange.getRequestMethod())) {
                    exchange.getResponseHeaders().set("Allow", "GET");
                    throw new HttpProblem(405, "method " + exchange.getRequestMethod()
                            + " is not allowed: this API is read-only, use GET");
                }
                media = MediaType.negotiate(exchange.getRequestHeaders().getFirst("Accept"));
                client = tokens.authenticate(exchange.getRequestHeaders().getFirst("Authorization"))
                        .orElseThrow(() -> unauthorized(exchange));
                long waitNanos = limiter.acquire(client);
                if (waitNanos > 0) {
                    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + 999_999_999L));
                    throw new HttpProblem(429, "client '" + client + "' exceeds its request rate: retry after "
                            + seconds + "s", seconds);
                }
                Message body;
                if (feedPath.matches()) {
                    body = feed.page(feedPath.group(1), uri.getRawQuery(), media);
                } else if (snapshotPath.matches()) {
                    body = snapshots.page(snapshotPath.group(1), uri.getRawQuery(), media);
                } else {
                    throw new HttpProblem(404, "no resource at " + uri.getPath()
                            + ": use /v1/feeds/{topic}/events or /v1/snapshots/{name}");
                }
                status = 200;
                byte[] bytes = representation.write(body, media);
                try {
                    send(exchange, 200, media, bytes);
                } catch (IOException gone) {
                    clientGone(exchange, client, gone);
                }
            } catch (HttpProblem problem) {
                status = problem.status();
                if (problem.retryAfterSeconds() >= 0) {
                    exchange.getResponseHeaders().set("Retry-After", Long.toString(problem.retryAfterSeconds()));
                }
                sendProblem(exchange, Problem.newBuilder().setStatus(problem.status()).setReason(problem.getMessage())
                        .setOldest(problem.oldest()).build(), media);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                status = 503;
                sendProblem(exchange, 503, "the server is shutting down: retry later", media);
            } catch (Exception e) {
                status = 500;
                log.error("feed request {} {} from client {} failed", exchange.getRequestMethod(),
                        exchange.getRequestURI().getPath(), client, e);
                sendProblem(exchange, 500, "the server could not read its log or table: " + e.getClass().getSimpleName()
                        + " (details in the server log); retry later", media);
            }
        }
        Timer.builder("eventsync.http.server.requests").tag("endpoint", endpoint).tag("status", Integer.toString(status))
                .tag("client", client).register(meters).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    private static HttpProblem unauthorized(HttpExchange exchange) {
        exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"eventsync\"");
        String header = exchange.getRequestHeaders().getFirst("Authorization");
        return new HttpProblem(401, header == null
                ? "missing bearer token: send 'Authorization: Bearer <token>'"
                : "the bearer token is not valid for this server");
    }

    private void sendProblem(HttpExchange exchange, int status, String reason, MediaType media) {
        sendProblem(exchange, Problem.newBuilder().setStatus(status).setReason(reason).build(), media);
    }

    private void sendProblem(HttpExchange exchange, Problem problem, MediaType media) {
        int status = problem.getStatus();
        // A refused negotiation has no agreed representation; JSON is the readable fallback.
        MediaType bodyType = status == 406 ? MediaType.JSON : media;
        try {
            send(exchange, status, bodyType, representation.write(problem, bodyType));
        } catch (IOException gone) {
            clientGone(exchange, "?", gone);
        }
    }

    /** The client closed the connection (a puller stopping mid long poll): nothing to answer, nothing failed. */
    private static void clientGone(HttpExchange exchange, String client, IOException e) {
        log.debug("client {} went away before the answer to {} was written: {}", client,
                exchange.getRequestURI().getPath(), e.toString());
    }

    private static void send(HttpExchange exchange, int status, MediaType media, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", media.contentType());
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
