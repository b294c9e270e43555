package io.eventsync.http;

import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.Subscription;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A new copy bootstraps from the snapshot while the source keeps writing, and ends equal to it. */
class BootstrapTest {
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
    void bootstrapWhileTheSourceKeepsWritingEndsWithTheCopyEqualToTheSource(TestDb.Kind kind) throws Exception {
        source = TestDb.create(kind);
        copy = TestDb.create(kind);
        String topic = Fixtures.topic();
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        Items.Writer writer = new Items.Writer(source.dataSource(), 300, 42);
        for (int i = 0; i < 600; i++) {
            writer.writeOne(); // history before the copy exists
        }
        source.startRelay(topic);
        server = Fixtures.server(log, topic).sourceName("inventory").rateLimit(10_000, 10_000)
                .snapshot(Items.mapping("items", topic, source.dataSource())).build().start();
        FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();
        PositionStore positions = PositionStore.of(Offsets.in(copy.dataSource()));
        transport = HttpFeedTransport.builder(client).positions(positions).pollWait(Duration.ofSeconds(2)).build();

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong writesDuringBootstrap = new AtomicLong();
        CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
            try {
                while (writing.get()) {
                    writer.writeOne();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        copyService = new Items.Copy(copy.dataSource(), "copy");
        long before = writer.writes;
        Bootstrap bootstrap = Bootstrap.builder(client, "items").group("copy").positions(positions).pageSize(10).build();
        Subscription following = bootstrap.runAndFollow(transport, copyService.dispatcher);
        writesDuringBootstrap.set(writer.writes - before);
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.writes > before + writesDuringBootstrap.get() + 200);
        writing.set(false);
        writes.get(30, TimeUnit.SECONDS);

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource())));
        following.close();
        assertThat(writesDuringBootstrap.get()).as("source writes while the snapshot was read").isPositive();
        assertThat(Items.rows(copy.dataSource())).isNotEmpty();
    }
}
