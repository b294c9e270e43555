package io.eventsync.http;

import static io.eventsync.http.Fixtures.TOKEN;

import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.LagCheck;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The HTTP feed tells a puller's lag (the head every page carries, asked for while the puller is busy,
 * minus the first offset not yet acknowledged): with the handler blocked it reaches the events appended
 * to the source's log, and falls to 0 once they are applied. Real feed server over the embedded log.
 */
class HttpFeedLagTest {
    private TestDb source;
    private TestDb copy;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private HttpFeedTransport transport;

    @AfterEach
    void stop() {
        if (transport != null) {
            transport.close();
        }
        if (server != null) {
            server.close();
        }
        if (log != null) {
            log.close();
        }
        if (source != null) {
            source.close();
        }
        if (copy != null) {
            copy.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void lagCountsTheEventsNotYetAppliedAndFallsToZero(TestDb.Kind kind) throws Exception {
        source = TestDb.create(kind);
        copy = TestDb.create(kind);
        String topic = Fixtures.topic();
        String group = "lag-copy-" + UUID.randomUUID().toString().substring(0, 8);
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        server = Fixtures.server(log, topic).rateLimit(10_000, 10_000).build().start();
        transport = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(PositionStore.of(Offsets.in(copy.dataSource())))
                .pollWait(Duration.ofSeconds(2)).backoff(Duration.ofMillis(20), Duration.ofMillis(300)).build();
        LagCheck.lagCountsEventsNotYetApplied(transport, () -> source.log().publisher(topic), topic, group, 20,
                Duration.ofSeconds(30), subscription -> {});
    }
}
