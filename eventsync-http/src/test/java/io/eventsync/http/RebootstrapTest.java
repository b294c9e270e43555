package io.eventsync.http;

import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.CopyHealth;
import io.eventsync.jdbc.Offsets;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A copy that was stopped while the source's log retention removed events it never read: the feed
 * answers 410, and the subscription either stops and says so (the default) or bootstraps the copy
 * again from a snapshot and follows the feed from there ({@link GonePolicy#REBOOTSTRAP}). Real
 * servers: the source's embedded log on H2 or PostgreSQL, a FeedServer, the copy's dispatcher, inbox
 * and CopyTable.
 */
class RebootstrapTest {
    private static final Duration HEALTH_WINDOW = Duration.ofMinutes(5);

    private TestDb source;
    private TestDb copy;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private String topic;
    private Items.Writer writer;
    private PositionStore positions;
    private HttpFeedTransport transport;
    private Items.Copy copyService;

    @AfterEach
    void stop() {
        stopConsumer();
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
    void aCopyPastRetentionIsBootstrappedAgainAndEndsEqualToTheSourceWithEveryLaterEventApplied(TestDb.Kind kind)
            throws Exception {
        long stoppedAt = copyInSyncThenStopped(kind, 200);
        writer.deletes = false; // deletes in the gap are not in any snapshot: see theLimit... below
        write(150);
        long oldest = retainUpTo(stoppedAt + 120);

        Subscription following = startConsumer(true);
        // The source keeps writing (deletes included: they come through the feed) while the copy re-bootstraps.
        writer.deletes = true;
        AtomicBoolean writing = new AtomicBoolean(true);
        CompletableFuture<Void> writes = CompletableFuture.runAsync(() -> {
            while (writing.get()) {
                write(1);
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> positions.load("copy", topic) > oldest);
        long afterRebootstrap = writer.writes;
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.writes > afterRebootstrap + 100);
        writing.set(false);
        writes.get(30, TimeUnit.SECONDS);
        long head = writer.writes; // one log entry per write (no heartbeats in these tests)

        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource())));
        await().atMost(Duration.ofSeconds(30)).until(() -> positions.load("copy", topic) == head);
        assertThat(copyService.dispatcher.health(HEALTH_WINDOW).healthy()).isTrue();
        assertThat(following.spec()).isEqualTo(SubscriptionSpec.fanout(topic, "copy"));
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void byDefaultTheSubscriptionStopsAndItsHealthNamesTheFeedThePositionAndTheOldestOffset(TestDb.Kind kind)
            throws Exception {
        long stoppedAt = copyInSyncThenStopped(kind, 120);
        List<String> copyWhenStopped = Items.rows(copy.dataSource());
        write(80);
        long oldest = retainUpTo(stoppedAt + 50);

        startConsumer(false);

        await().atMost(Duration.ofSeconds(30)).until(() -> !copyService.dispatcher.health(HEALTH_WINDOW).healthy());
        CopyHealth health = copyService.dispatcher.health(HEALTH_WINDOW);
        assertThat(health.reasons()).singleElement().asString()
                .contains("subscription " + topic + "/copy stopped", "feed " + topic,
                        "position " + stoppedAt, "oldest retained offset " + oldest);
        // Stopped, not skipped ahead: nothing after the gap was applied and the position did not move.
        assertThat(Items.rows(copy.dataSource())).isEqualTo(copyWhenStopped);
        assertThat(positions.load("copy", topic)).isEqualTo(stoppedAt);
        assertThat(copyService.dispatcher.inFlight()).isZero();

        FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();
        assertThatThrownBy(() -> client.events(topic, stoppedAt, 10, Duration.ZERO))
                .isInstanceOfSatisfying(FeedGoneException.class, gone -> {
                    assertThat(gone.status()).isEqualTo(410);
                    assertThat(gone.topic()).isEqualTo(topic);
                    assertThat(gone.position()).isEqualTo(stoppedAt);
                    assertThat(gone.oldest()).isEqualTo(oldest);
                });
    }

    /**
     * A snapshot row older than the copy's row (here a source row set back to an old version, as a
     * snapshot served from a lagging replica would be) changes nothing: the re-bootstrap applies rows
     * through the version guard. A later event of that key, newer than both, is applied.
     */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void aSnapshotRowOlderThanTheCopysRowDoesNotOverwriteIt(TestDb.Kind kind) throws Exception {
        long stoppedAt = copyInSyncThenStopped(kind, 200);
        writer.deletes = false;
        write(60);
        String newer = Items.rows(copy.dataSource()).stream().filter(r -> Long.parseLong(r.split("\\|")[3]) > 1)
                .findFirst().orElseThrow();
        String key = newer.split("\\|")[0];
        source.execute("UPDATE items SET name = 'stale', version = 1 WHERE id = '" + key + "'");
        long oldest = retainUpTo(stoppedAt + 40);

        startConsumer(true);

        await().atMost(Duration.ofSeconds(60)).until(() -> positions.load("copy", topic) > oldest);
        List<String> copied = Items.rows(copy.dataSource());
        assertThat(copied).contains(newer).noneMatch(r -> r.startsWith(key + "|stale"));
        List<String> others = Items.rows(source.dataSource()).stream().filter(r -> !r.startsWith(key + "|")).toList();
        assertThat(copied.stream().filter(r -> !r.startsWith(key + "|")).toList()).isEqualTo(others);

        writeUntilTouched(key);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource())));
    }

    /**
     * The documented limit: a row deleted at the source while the copy was behind retention is in no
     * snapshot, so the re-bootstrapped copy keeps it (eventsync verify --repair removes it).
     */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = "H2")
    void theLimitARowDeletedInTheGapStaysInTheCopy(TestDb.Kind kind) throws Exception {
        long stoppedAt = copyInSyncThenStopped(kind, 100);
        writer.deletes = false;
        write(30);
        String deleted = Items.rows(source.dataSource()).get(0).split("\\|")[0];
        retainUpTo(stoppedAt + 30);
        // As a delete whose event retention removed (the writer writes no more, so it never touches the row again).
        source.execute("DELETE FROM items WHERE id = '" + deleted + "'");

        startConsumer(true);

        await().atMost(Duration.ofSeconds(60)).until(() -> positions.load("copy", topic) == stoppedAt + 30);
        List<String> copied = Items.rows(copy.dataSource());
        assertThat(copied).anyMatch(r -> r.startsWith(deleted + "|"));
        assertThat(copied.stream().filter(r -> !r.startsWith(deleted + "|")).toList())
                .isEqualTo(Items.rows(source.dataSource()));
    }

    /**
     * A copy made by {@code Bootstrap.runAndFollow} with {@code onGone(REBOOTSTRAP)} is cut off from the
     * source (server down) longer than retention keeps its position: when the server is back, the same
     * bootstrap runs again and the copy ends equal to the source.
     */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = "H2")
    void aBootstrappedCopyCutOffLongerThanRetentionBootstrapsAgainWhenTheFeedIsBack(TestDb.Kind kind) throws Exception {
        source = TestDb.create(kind);
        copy = TestDb.create(kind);
        topic = Fixtures.topic();
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        writer = new Items.Writer(source.dataSource(), 40, 5);
        write(100);
        source.startRelay(topic);
        server = serverWithSnapshot(0);
        positions = PositionStore.of(Offsets.in(copy.dataSource()));
        FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();
        copyService = new Items.Copy(copy.dataSource(), "copy");
        transport = HttpFeedTransport.builder(client).positions(positions).pollWait(Duration.ofSeconds(2))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(300)).build();
        Bootstrap bootstrap = Bootstrap.builder(client, "items").group("copy").positions(positions)
                .onGone(GonePolicy.REBOOTSTRAP).build();
        bootstrap.runAndFollow(transport, copyService.dispatcher);
        await().atMost(Duration.ofSeconds(30)).until(() -> positions.load("copy", topic) == 100);

        int port = server.uri().getPort();
        server.close();
        writer.deletes = false;
        write(80);
        long oldest = retainUpTo(160);
        server = serverWithSnapshot(port);

        await().atMost(Duration.ofSeconds(60)).until(() -> positions.load("copy", topic) > oldest);
        writer.deletes = true;
        write(40);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .untilAsserted(() -> assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource())));
        assertThat(copyService.dispatcher.health(HEALTH_WINDOW).healthy()).isTrue();
    }

    /** A snapshot of another feed would store a position of that feed: refused, reported, and the position stays. */
    @ParameterizedTest
    @EnumSource(value = TestDb.Kind.class, names = "H2")
    void aRebootstrapSnapshotOfAnotherFeedIsRefusedAndReported(TestDb.Kind kind) throws Exception {
        long stoppedAt = copyInSyncThenStopped(kind, 60);
        write(30);
        retainUpTo(stoppedAt + 10);
        String otherTopic = Fixtures.topic();
        server.close();
        server = Fixtures.server(log, topic).sourceName("inventory")
                .snapshot(Items.mapping("others", otherTopic, source.dataSource())).build().start();
        copyService = new Items.Copy(copy.dataSource(), "copy");
        transport = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(positions).pollWait(Duration.ofSeconds(2)).backoff(Duration.ofMillis(20), Duration.ofMillis(300))
                .rebootstrapWhenGone(topic, "others").build();
        List<String> copyWhenStopped = Items.rows(copy.dataSource());

        transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), copyService.dispatcher);

        await().atMost(Duration.ofSeconds(30)).until(() -> !copyService.dispatcher.health(HEALTH_WINDOW).healthy());
        assertThat(copyService.dispatcher.health(HEALTH_WINDOW).reasons()).singleElement().asString()
                .contains("bootstrapping again failed", "snapshot others is consistent with feed " + otherTopic);
        assertThat(positions.load("copy", topic)).isEqualTo(stoppedAt);
        assertThat(positions.load("copy", otherTopic)).isZero();
        assertThat(Items.rows(copy.dataSource())).isEqualTo(copyWhenStopped);
    }

    @org.junit.jupiter.api.Test
    void policiesAreCheckedWhenBuilt() {
        FeedClient client = FeedClient.builder(java.net.URI.create("http://127.0.0.1:1")).token(TOKEN).build();
        assertThatThrownBy(() -> HttpFeedTransport.builder(client).rebootstrapWhenGone("items", " ").build())
                .isInstanceOf(io.eventsync.ConfigException.class).hasMessageContaining("snapshot of topic items");
        assertThatThrownBy(() -> HttpFeedTransport.builder(client).rebootstrapWhenGone("bad topic", "items").build())
                .isInstanceOf(io.eventsync.ConfigException.class).hasMessageContaining("bad topic");
        assertThatThrownBy(() -> Bootstrap.builder(client, "items").group("copy").positions(PositionStore.inMemory())
                .onGone(null).build())
                .isInstanceOf(io.eventsync.ConfigException.class).hasMessageContaining("onGone");
    }

    private FeedServer serverWithSnapshot(int port) {
        return Fixtures.server(log, topic).port(port).sourceName("inventory").rateLimit(10_000, 10_000)
                .snapshot(Items.mapping("items", topic, source.dataSource())).build().start();
    }

    /**
     * Source with {@code events} written and relayed, a feed server with snapshot "items", a copy that
     * followed the feed to the head; then the consumer stops. Returns the copy's stored position.
     */
    private long copyInSyncThenStopped(TestDb.Kind kind, int events) throws Exception {
        source = TestDb.create(kind);
        copy = TestDb.create(kind);
        topic = Fixtures.topic();
        log = JdbcLogFeedSource.builder(source.dataSource()).build();
        writer = new Items.Writer(source.dataSource(), 40, 11);
        write(events);
        source.startRelay(topic);
        server = serverWithSnapshot(0);
        positions = PositionStore.of(Offsets.in(copy.dataSource()));

        startConsumer(false);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> positions.load("copy", topic) == events);
        assertThat(Items.rows(copy.dataSource())).isEqualTo(Items.rows(source.dataSource()));
        stopConsumer();
        return events;
    }

    /** A new consumer process: dispatcher, transport (REBOOTSTRAP with snapshot "items", or the default) and subscription. */
    private Subscription startConsumer(boolean rebootstrap) {
        copyService = new Items.Copy(copy.dataSource(), "copy");
        HttpFeedTransport.Builder b = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .positions(positions).pageSize(25).pollWait(Duration.ofSeconds(2))
                .backoff(Duration.ofMillis(20), Duration.ofMillis(300));
        if (rebootstrap) {
            b.rebootstrapWhenGone(topic, "items");
        }
        transport = b.build();
        return transport.subscribe(SubscriptionSpec.fanout(topic, "copy"), copyService.dispatcher);
    }

    private void stopConsumer() {
        if (transport != null) {
            transport.close();
            transport = null;
        }
        if (copyService != null) {
            copyService.close();
            copyService = null;
        }
    }

    /**
     * Waits until the relay moved every write to the log, then runs the log's retention with one other
     * (faster) group registered at {@code passed}: entries below it go. Returns the oldest offset left.
     */
    private long retainUpTo(long passed) {
        long written = writer.writes;
        await().atMost(Duration.ofSeconds(30)).until(() -> log.range(topic).head() == written);
        source.execute("INSERT INTO eventsync_log_group (consumer_group, topic, next_offset) VALUES ('audit', '"
                + topic + "', " + passed + ")");
        source.log().retain();
        long oldest = log.range(topic).oldest();
        assertThat(oldest).isEqualTo(passed);
        return oldest;
    }

    private void write(int n) {
        try {
            for (int i = 0; i < n; i++) {
                writer.writeOne();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes until the source row of {@code key} has a version above 1 again (the writer's own count). */
    private void writeUntilTouched(String key) throws SQLException {
        while (Items.rows(source.dataSource()).stream().anyMatch(r -> r.startsWith(key + "|stale"))) {
            writer.writeOne();
        }
    }
}
