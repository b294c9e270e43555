package io.eventsync.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.eventsync.ConfigException;
import io.eventsync.http.v1.FeedPage;
import io.eventsync.http.v1.Problem;
import io.eventsync.http.v1.SnapshotPage;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Reads a {@link FeedServer}'s feed and snapshots with {@link HttpClient}; always asks for protobuf
 * (compact, and envelope bytes arrive exactly as stored). One request at a time per call; thread-safe.
 */
public final class FeedClient {
    private final URI baseUri;
    private final String authorization;
    private final Duration requestTimeout;
    private final HttpClient http;

    private FeedClient(Builder b) {
        this.baseUri = b.baseUri;
        this.authorization = "Bearer " + b.token;
        this.requestTimeout = b.requestTimeout;
        this.http = HttpClient.newBuilder().connectTimeout(b.connectTimeout).version(HttpClient.Version.HTTP_1_1).build();
    }

    public static Builder builder(URI baseUri) {
        return new Builder(baseUri);
    }

    /**
     * Events of {@code topic} from offset {@code from}, at most {@code limit}; when none are there, the
     * server waits up to {@code wait} for one.
     *
     * @throws FeedGoneException       the feed no longer retains {@code from} (410)
     * @throws FeedRejectedException    the server refused (bad token, position or parameter)
     * @throws FeedUnavailableException the server is unreachable, overloaded or failing: retry
     */
    public FeedPage events(String topic, long from, int limit, Duration wait) throws InterruptedException {
        String path = "/v1/feeds/" + encode(topic) + "/events?from=" + from + "&limit=" + limit
                + "&wait=" + wait.toSeconds();
        return get(path, requestTimeout.plus(wait), FeedPage.parser(),
                problem -> new FeedGoneException(topic, from, problem.getOldest(), problem.getReason()));
    }

    /** A page of snapshot {@code name}; pass the previous page's {@code next_cursor}, or "" for the first. */
    public SnapshotPage snapshot(String name, String cursor, int limit) throws InterruptedException {
        String path = "/v1/snapshots/" + encode(name) + "?limit=" + limit
                + (cursor.isEmpty() ? "" : "&cursor=" + encode(cursor));
        return get(path, requestTimeout, SnapshotPage.parser(), null);
    }

    /** {@code gone}: what a 410 becomes, or null for a plain {@link FeedRejectedException}. */
    private <T extends Message> T get(String path, Duration timeout, com.google.protobuf.Parser<T> parser,
                                      java.util.function.Function<Problem, FeedRejectedException> gone)
            throws InterruptedException {
        URI uri = baseUri.resolve(path);
        HttpRequest request = HttpRequest.newBuilder(uri).GET().timeout(timeout)
                .header("Authorization", authorization)
                .header("Accept", "application/x-protobuf")
                .build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new FeedUnavailableException(0, "GET " + uri.getPath() + " on " + baseUri + " failed: " + e, null, e);
        }
        int status = response.statusCode();
        if (status == 200) {
            try {
                return parser.parseFrom(response.body());
            } catch (InvalidProtocolBufferException e) {
                throw new FeedUnavailableException(status, "GET " + uri.getPath() + " returned a body that is not a "
                        + "protobuf page (a proxy in between?): " + e.getMessage(), null, e);
            }
        }
        Problem problem = problem(response, status);
        String reason = "GET " + uri.getPath() + " on " + baseUri + " answered " + status + ": " + problem.getReason();
        if (status == 429 || status >= 500) {
            Duration retryAfter = response.headers().firstValue("Retry-After")
                    .flatMap(FeedClient::seconds).orElse(null);
            throw new FeedUnavailableException(status, reason, retryAfter, null);
        }
        if (status == 410 && gone != null) {
            throw gone.apply(problem.toBuilder().setReason(reason).build());
        }
        throw new FeedRejectedException(status, reason);
    }

    /** The server's Problem body; a body that is none (a proxy's page) becomes the reason, cut to 300 characters. */
    private static Problem problem(HttpResponse<byte[]> response, int status) {
        String type = response.headers().firstValue("Content-Type").orElse("");
        try {
            if (type.startsWith("application/x-protobuf")) {
                return Problem.parseFrom(response.body());
            }
            if (type.startsWith("application/json")) {
                Problem.Builder problem = Problem.newBuilder();
                JsonFormat.parser().ignoringUnknownFields().merge(new String(response.body(), StandardCharsets.UTF_8), problem);
                return problem.build();
            }
        } catch (InvalidProtocolBufferException e) {
            // fall through to the raw body
        }
        String raw = new String(response.body(), StandardCharsets.UTF_8);
        return Problem.newBuilder().setStatus(status).setReason(raw.length() > 300 ? raw.substring(0, 300) + "..." : raw).build();
    }

    /**
     * A {@code Retry-After} in seconds, as the feed server sends it. A server (or a proxy in between)
     * may send anything: a negative value or a date is ignored, and a wait longer than
     * {@link #MAX_RETRY_AFTER} is cut to it, so no header can park a puller for years.
     */
    static java.util.Optional<Duration> seconds(String header) {
        try {
            long seconds = Long.parseLong(header.trim());
            if (seconds < 0) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(Duration.ofSeconds(Math.min(seconds, MAX_RETRY_AFTER.toSeconds())));
        } catch (NumberFormatException e) {
            return java.util.Optional.empty();
        }
    }

    /** The longest server-requested wait honoured; a larger {@code Retry-After} is cut to it. */
    public static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(5);

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    public static final class Builder {
        private final URI baseUri;
        private String token;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration requestTimeout = Duration.ofSeconds(30);

        private Builder(URI baseUri) {
            this.baseUri = baseUri;
        }

        /** The bearer token the server knows this client by. Required. */
        public Builder token(String token) { this.token = token; return this; }
        public Builder connectTimeout(Duration d) { this.connectTimeout = d; return this; }
        /** Time allowed for a response beyond the long-poll wait; default 30s. */
        public Builder requestTimeout(Duration d) { this.requestTimeout = d; return this; }

        public FeedClient build() {
            if (baseUri == null || !("http".equals(baseUri.getScheme()) || "https".equals(baseUri.getScheme()))) {
                throw new ConfigException("baseUri must be an http(s) URI but was: " + baseUri);
            }
            if (token == null || token.isBlank()) {
                throw new ConfigException("token is required: the bearer token the feed server issued to this client");
            }
            if (connectTimeout.isNegative() || connectTimeout.isZero()) {
                throw new ConfigException("connectTimeout must be positive but was: " + connectTimeout);
            }
            if (requestTimeout.isNegative() || requestTimeout.isZero()) {
                throw new ConfigException("requestTimeout must be positive but was: " + requestTimeout);
            }
            return new FeedClient(this);
        }
    }
}
