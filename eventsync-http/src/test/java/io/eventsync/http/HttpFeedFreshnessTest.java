package io.eventsync.http;

import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A relay's heartbeats through the source's embedded log and the HTTP feed (one partition) give the
 * copy its freshness: present while the relay runs, rising while it is stopped, falling back once a new
 * relay runs. The relay here sends heartbeats (TestDb's relays do not). H2 and PostgreSQL.
 */
class HttpFeedFreshnessTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final String SOURCE = "inventory"; // the outbox Items.Writer appends to
    private TestDb source;
    private TestDb copy;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private HttpFeedTransport transport;
    private Items.Copy copyService;

    @AfterEach
    void stop() {
        if (transport != null) {
            transport.close();
        }
        if (copyService != null) {
            copyService.close();
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
    void freshnessRisesWhileTheRelayIsStoppedAndFallsBackWhenItResumes(TestDb.Kind kind) throws Exception {
        source = TestDb.create(kind);
        copy = TestDb.create(kind);
        String topic = Fixtures.topic();
        String group = "fresh-copy-" + UUID.randomUUID().toString().substring(0, 8);
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        server = Fixtures.server(log, topic).rateLimit(10_000, 10_000).build().start();
        transport = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(PositionStore.of(Offsets.in(copy.dataSource())))
                .pollWait(Duration.ofSeconds(2)).backoff(Duration.ofMillis(20), Duration.ofMillis(300)).build();
        copyService = new Items.Copy(copy.dataSource(), group);
        Dispatcher dispatcher = copyService.dispatcher;
        Items.Writer writer = new Items.Writer(source.dataSource(), 5, 13);

        try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher)) {
            // Each relay gets its own log publisher: the embedded log fences a publisher to the first relay using it.
            Publisher publisher = source.log().publisher(topic);
            Relay relay = relay(publisher).start();
            try {
                for (int i = 0; i < 8; i++) {
                    writer.writeOne();
                }
                await().atMost(WAIT).untilAsserted(() ->
                        assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource())));

                // Running: heartbeats arrive over the feed (without them this wait times out).
                Instant first = await().atMost(WAIT).until(() -> sourceTime(dispatcher), t -> t != null);
                await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(first));
                CopyFreshness running = dispatcher.freshness().get(SOURCE);
                assertThat(running.partitions()).isEqualTo(1);
                System.out.printf("http feed, %s: freshness while idle %d ms (heartbeat interval %d ms)%n", kind,
                        running.freshness().toMillis(), INTERVAL.toMillis());
            } finally {
                relay.close();
                publisher.close();
            }

            // Stopped: no heartbeat, so freshness rises past two intervals.
            await().atMost(WAIT).until(() -> dispatcher.freshness().get(SOURCE).freshness()
                    .compareTo(INTERVAL.multipliedBy(2)) > 0);
            Instant stoppedAt = sourceTime(dispatcher);
            Duration stale = dispatcher.freshness().get(SOURCE).freshness();
            System.out.printf("http feed, %s: freshness while stopped %d ms%n", kind, stale.toMillis());

            // Resumed: a new relay's heartbeats bring it back below what it was while stopped.
            try (Publisher second = source.log().publisher(topic); Relay again = relay(second).start()) {
                await().atMost(WAIT).until(() -> {
                    CopyFreshness f = dispatcher.freshness().get(SOURCE);
                    return f.sourceTime().isAfter(stoppedAt) && f.freshness().compareTo(stale) < 0;
                });
                assertThat(dispatcher.freshness().get(SOURCE).partitions()).isEqualTo(1);
            }
            // The heartbeats changed nothing in the copy.
            assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource()));
        }
    }

    private Relay relay(Publisher publisher) {
        return Relay.builder().dataSource(source.dataSource()).source(SOURCE).publisher(publisher)
                .leaseDuration(Duration.ofSeconds(2)).heartbeatInterval(INTERVAL)
                .meterRegistry(new SimpleMeterRegistry()).build();
    }

    private static Instant sourceTime(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get(SOURCE);
        return f == null ? null : f.sourceTime();
    }
}
