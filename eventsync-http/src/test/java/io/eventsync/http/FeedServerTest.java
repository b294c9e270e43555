package io.eventsync.http;

import static io.eventsync.http.Fixtures.CODEC;
import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.eventsync.http.test.ItemChanged;
import io.eventsync.http.v1.FeedEntry;
import io.eventsync.http.v1.FeedPage;
import io.eventsync.http.v1.Problem;
import io.eventsync.v1.Envelope;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The feed endpoint over loopback against a real log (H2 here): pages, long polls, negotiation and refusals. */
class FeedServerTest {
    private TestDb db;
    private JdbcLogFeedSource log;
    private WaitCountingSource source;
    private FeedServer server;
    private String topic;
    private final HttpClient http = HttpClient.newHttpClient();

    /** The source database; {@link FeedServerPostgresTest} runs the same tests on PostgreSQL. */
    TestDb.Kind kind() {
        return TestDb.Kind.H2;
    }

    @BeforeEach
    void start() {
        db = TestDb.create(kind());
        log = JdbcLogFeedSource.builder(db.dataSource()).name("test").build();
        source = new WaitCountingSource(log);
        topic = Fixtures.topic();
        server = Fixtures.server(source, topic).maxPageSize(50).build().start();
    }

    @AfterEach
    void stop() {
        server.close();
        log.close();
        db.close();
    }

    private FeedClient client() {
        return FeedClient.builder(server.uri()).token(TOKEN).build();
    }

    private HttpResponse<String> get(String pathAndQuery, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.uri() + pathAndQuery)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String reason(HttpResponse<String> response) throws Exception {
        Problem.Builder problem = Problem.newBuilder();
        JsonFormat.parser().merge(response.body(), problem);
        return problem.getReason();
    }

    @Test
    void feedServesEventsInCommitOrderFromTheRequestedPosition() throws Exception {
        List<Envelope> events = Fixtures.appendItems(db, topic, 10);

        FeedPage first = client().events(topic, 0, 4, Duration.ZERO);
        FeedPage second = client().events(topic, first.getNext(), 100, Duration.ZERO);

        assertThat(first.getEntriesList()).extracting(FeedEntry::getOffset).containsExactly(0L, 1L, 2L, 3L);
        assertThat(first.getNext()).isEqualTo(4);
        assertThat(first.getHead()).isEqualTo(10);
        assertThat(second.getEntriesList()).extracting(FeedEntry::getOffset).containsExactly(4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(second.getNext()).isEqualTo(10);
        // Protobuf entries carry the stored bytes unchanged.
        assertThat(CODEC.decode(first.getEntries(2).getEnvelope().toByteArray())).isEqualTo(events.get(2));
    }

    @Test
    void pageSizeIsCappedAtTheServersLimit() throws Exception {
        Fixtures.appendItems(db, topic, 60);

        FeedPage page = client().events(topic, 0, 1000, Duration.ZERO);

        assertThat(page.getEntriesCount()).isEqualTo(50);
        assertThat(page.getNext()).isEqualTo(50);
    }

    @Test
    void waitingPollReturnsTheEventThatCommitsWhileItWaits() throws Exception {
        Fixtures.appendItems(db, topic, 2);
        CompletableFuture<FeedPage> poll = CompletableFuture.supplyAsync(() -> {
            try {
                return client().events(topic, 2, 10, Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> source.waiting.get() == 1);

        Envelope late = Fixtures.item("late", 1, "late", 7);
        db.append(topic, late);

        FeedPage page = poll.get(20, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(page.getEntriesList()).hasSize(1);
        assertThat(page.getEntries(0).getOffset()).isEqualTo(2);
        assertThat(CODEC.decode(page.getEntries(0).getEnvelope().toByteArray()).getSubject()).isEqualTo("late");
    }

    @Test
    void pollWithoutWaitReturnsAnEmptyPageAtTheHead() throws Exception {
        Fixtures.appendItems(db, topic, 3);

        FeedPage page = client().events(topic, 3, 10, Duration.ZERO);

        assertThat(page.getEntriesList()).isEmpty();
        assertThat(page.getNext()).isEqualTo(3);
        assertThat(page.getHead()).isEqualTo(3);
    }

    @Test
    void plainHttpGetWithAcceptJsonReadsTheFeedAsProtobufJson() throws Exception {
        Fixtures.appendItems(db, topic, 2);

        // The curl equivalent: curl -H 'Authorization: Bearer <token>' -H 'Accept: application/json' \
        //   'http://127.0.0.1:<port>/v1/feeds/<topic>/events?from=0&limit=10'
        HttpResponse<String> response = get("/v1/feeds/" + topic + "/events?from=0&limit=10",
                "Authorization", "Bearer " + TOKEN, "Accept", "application/json");

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(response.body()).contains("\"topic\":\"" + topic + "\"", "\"next\":\"2\"", "\"subject\":\"item-1\"",
                "\"@type\":\"type.googleapis.com/eventsync.http.test.ItemChanged\"", "\"name\":\"name-1\"");
        FeedPage.Builder page = FeedPage.newBuilder();
        JsonFormat.parser().usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(ItemChanged.getDescriptor()).build())
                .merge(response.body(), page);
        assertThat(page.getEntries(1).getEvent().getPayload().unpack(ItemChanged.class).getName()).isEqualTo("name-1");
    }

    @Test
    void acceptProtobufGetsProtobufAndWildcardGetsJson() throws Exception {
        Fixtures.appendItems(db, topic, 1);
        String path = "/v1/feeds/" + topic + "/events";

        HttpResponse<byte[]> proto = http.send(HttpRequest.newBuilder(URI.create(server.uri() + path))
                .header("Authorization", "Bearer " + TOKEN)
                .header("Accept", "application/json;q=0.5, application/x-protobuf").build(), HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<String> wildcard = get(path, "Authorization", "Bearer " + TOKEN, "Accept", "*/*");
        HttpResponse<String> unsupported = get(path, "Authorization", "Bearer " + TOKEN, "Accept", "text/html");

        assertThat(proto.headers().firstValue("Content-Type")).hasValue("application/x-protobuf");
        assertThat(FeedPage.parseFrom(proto.body()).getEntries(0).getEnvelope().isEmpty()).isFalse();
        assertThat(wildcard.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(unsupported.statusCode()).isEqualTo(406);
        assertThat(reason(unsupported)).contains("application/x-protobuf");
    }

    @Test
    void requestWithoutTokenOrWithAWrongTokenIsUnauthorized() throws Exception {
        String path = "/v1/feeds/" + topic + "/events";

        HttpResponse<String> none = get(path);
        HttpResponse<String> wrong = get(path, "Authorization", "Bearer not-a-token-anyone-has");

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(reason(none)).contains("missing bearer token");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(reason(wrong)).contains("not valid");
    }

    @Test
    void badPositionsAndParametersAreRefusedWithTheirReason() throws Exception {
        Fixtures.appendItems(db, topic, 3);
        String path = "/v1/feeds/" + topic + "/events";
        String[] auth = {"Authorization", "Bearer " + TOKEN};

        HttpResponse<String> negative = get(path + "?from=-1", auth);
        HttpResponse<String> notNumber = get(path + "?from=abc", auth);
        HttpResponse<String> beyond = get(path + "?from=99", auth);
        HttpResponse<String> zeroLimit = get(path + "?limit=0", auth);
        HttpResponse<String> unknown = get(path + "?after=1", auth);
        HttpResponse<String> noTopic = get("/v1/feeds/nope/events", auth);

        assertThat(negative.statusCode()).isEqualTo(400);
        assertThat(reason(negative)).contains("from=-1", "out of range");
        assertThat(notNumber.statusCode()).isEqualTo(400);
        assertThat(reason(notNumber)).contains("from=abc is not a whole number");
        assertThat(beyond.statusCode()).isEqualTo(400);
        assertThat(reason(beyond)).contains("beyond the head (3)", "does not belong to this feed");
        assertThat(zeroLimit.statusCode()).isEqualTo(400);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(reason(unknown)).contains("unknown parameter 'after'");
        assertThat(noTopic.statusCode()).isEqualTo(404);
    }

    @Test
    void positionOlderThanTheRetainedLogIsGone() throws Exception {
        Fixtures.appendItems(db, topic, 5);
        db.execute("DELETE FROM eventsync_log WHERE log_offset < 3");

        HttpResponse<String> gone = get("/v1/feeds/" + topic + "/events?from=1", "Authorization", "Bearer " + TOKEN);
        FeedPage kept = client().events(topic, 3, 10, Duration.ZERO);

        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(reason(gone)).contains("oldest offset 3", "bootstrap");
        assertThat(kept.getEntriesList()).extracting(FeedEntry::getOffset).containsExactly(3L, 4L);
    }

    @Test
    void writeMethodsAreNotAllowed() throws Exception {
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/v1/feeds/" + topic + "/events"))
                .header("Authorization", "Bearer " + TOKEN)
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");
        assertThat(reason(post)).contains("read-only");
    }

    @Test
    void clientOverItsRequestRateGets429WithRetryAfterWhileOthersAreServed() throws Exception {
        server.close();
        server = Fixtures.server(source, topic).rateLimit(0.2, 3).build().start();
        String path = "/v1/feeds/" + topic + "/events";

        for (int i = 0; i < 3; i++) {
            assertThat(get(path, "Authorization", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> limited = get(path, "Authorization", "Bearer " + TOKEN);
        HttpResponse<String> other = get(path, "Authorization", "Bearer " + Fixtures.OTHER_TOKEN);

        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 5L));
        assertThat(reason(limited)).contains("client 'copy' exceeds its request rate");
        assertThat(other.statusCode()).isEqualTo(200);
    }

    /** Delegates to the real log; counts polls that are waiting, so a test can commit while one waits. */
    static final class WaitCountingSource implements FeedSource {
        final FeedSource delegate;
        final AtomicInteger waiting = new AtomicInteger();

        WaitCountingSource(FeedSource delegate) {
            this.delegate = delegate;
        }

        @Override
        public List<LogRecord> read(String topic, long from, int limit) {
            return delegate.read(topic, from, limit);
        }

        @Override
        public LogRange range(String topic) {
            return delegate.range(topic);
        }

        @Override
        public boolean await(String topic, long from, Duration timeout) throws InterruptedException {
            waiting.incrementAndGet();
            try {
                return delegate.await(topic, from, timeout);
            } finally {
                waiting.decrementAndGet();
            }
        }
    }
}
