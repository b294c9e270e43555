package io.eventsync.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.PostgresCopy;
import io.eventsync.jdbc.RawLogWriter;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.time.Duration;

/**
 * The hostile-input contract over the HTTP feed: entries written with plain SQL into the source's log
 * on PostgreSQL ({@link RawLogWriter}), served by a {@link FeedServer} and pulled by the
 * {@link HttpFeedTransport}. The feed has no metadata of its own beyond the log's; an empty log entry is
 * served as an entry with an empty envelope (the generic corpus's empty value).
 */
class HttpFeedHostileInputTest extends HostileInputContract {
    private static final String TOKEN = "hostile-input-test-token";

    private TestDatabase source;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private final PositionStore positions = PositionStore.inMemory();
    private RawLogWriter writer;

    @Override
    protected Transport newTransport() {
        source = TestDatabase.create(TestDatabase.Kind.POSTGRES);
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        server = FeedServer.builder().source(log).allTopics().client("copy", TOKEN).port(0)
                .rateLimit(10_000, 10_000).maxWait(Duration.ofSeconds(2)).build().start();
        HttpFeedTransport http = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(positions).pollWait(Duration.ofSeconds(1))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(500)).build();
        return new Transport() {
            @Override
            public String name() {
                return "http";
            }

            @Override
            public Publisher publisher(String topic) {
                throw new UnsupportedOperationException("records enter through the log's table");
            }

            @Override
            public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
                return http.subscribe(spec, handler);
            }

            @Override
            public void close() {
                http.close();
                server.close();
                log.close();
                source.close();
            }
        };
    }

    @Override
    protected CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) {
        return PostgresCopy.create(subscription, codec);
    }

    @Override
    protected RawWriter rawWriter(String topic) {
        writer = new RawLogWriter(source, topic);
        return writer;
    }

    @Override
    protected void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception {
        assertThat(positions.load(spec.group(), spec.topic())).as("stored feed position of %s", spec.group())
                .isEqualTo(writer.head());
    }
}
