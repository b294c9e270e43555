package io.eventsync.http;

import static io.eventsync.http.Fixtures.CODEC;
import static io.eventsync.http.Fixtures.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.http.test.ItemChanged;
import io.eventsync.http.v1.FeedEntry;
import io.eventsync.http.v1.SnapshotPage;
import io.eventsync.v1.Envelope;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The snapshot endpoint against an H2 source: key-cursor paging, a fixed consistent position, refusals. */
class SnapshotTest {
    private TestDb db;
    private JdbcLogFeedSource log;
    private FeedServer server;
    private String topic;

    @BeforeEach
    void start() throws Exception {
        db = TestDb.create(TestDb.Kind.H2);
        log = JdbcLogFeedSource.builder(db.dataSource()).build();
        topic = Fixtures.topic();
        Items.Writer writer = new Items.Writer(db.dataSource(), 1_000_000, 7);
        for (int i = 0; i < 25; i++) {
            writer.writeOne();
        }
        db.startRelay(topic);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> log.range(topic).head() == 25);
        server = Fixtures.server(log, topic).sourceName("inventory")
                .snapshot(Items.mapping("items", topic, db.dataSource())).build().start();
    }

    @AfterEach
    void stop() {
        server.close();
        log.close();
        db.close();
    }

    @Test
    void snapshotPagesThroughEveryRowByKeyAtOneFixedPosition() throws Exception {
        FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();
        List<Envelope> rows = new ArrayList<>();
        List<Long> positions = new ArrayList<>();
        String cursor = "";
        int pages = 0;
        do {
            SnapshotPage page = client.snapshot("items", cursor, 4);
            for (FeedEntry entry : page.getEntriesList()) {
                rows.add(CODEC.decode(entry.getEnvelope().toByteArray()));
            }
            positions.add(page.getPosition());
            assertThat(page.getTopic()).isEqualTo(topic);
            cursor = page.getNextCursor();
            pages++;
            Fixtures.appendItems(db, topic, 1); // the log grows between pages
        } while (!cursor.isEmpty());

        List<String> source = Items.rows(db.dataSource());
        assertThat(rows).extracting(Envelope::getSubject)
                .containsExactlyElementsOf(source.stream().map(r -> r.split("\\|")[0]).toList());
        assertThat(rows).extracting(e -> e.getSubject() + "|" + e.getPayload().unpack(ItemChanged.class).getName() + "|"
                + e.getPayload().unpack(ItemChanged.class).getQuantity() + "|" + e.getSequence())
                .containsExactlyElementsOf(source);
        assertThat(rows).allSatisfy(e -> assertThat(e.getSource()).isEqualTo("inventory"));
        assertThat(pages).isGreaterThan(1);
        assertThat(positions).containsOnly(25L); // the head when the first page was read
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(TestDb.Kind.class)
    void compositeKeysOfTextAndNumbersPageInKeyOrderWithoutGapsOrRepeats(TestDb.Kind kind) throws Exception {
        try (TestDb other = TestDb.create(kind);
             JdbcLogFeedSource otherLog = JdbcLogFeedSource.builder(other.dataSource()).build()) {
            other.execute("CREATE TABLE stock (region VARCHAR(20) NOT NULL, bin INTEGER NOT NULL, qty BIGINT NOT NULL,"
                    + " PRIMARY KEY (region, bin))");
            List<String> expected = new ArrayList<>();
            for (String region : List.of("eu", "us", "apac")) {
                for (int bin = 1; bin <= 7; bin++) {
                    other.execute("INSERT INTO stock VALUES ('" + region + "', " + bin * 10 + ", " + bin + ")");
                    expected.add(region + "/" + bin * 10);
                }
            }
            expected.sort(java.util.Comparator.comparing((String k) -> k.split("/")[0])
                    .thenComparing(k -> Integer.parseInt(k.split("/")[1])));
            SnapshotMapping stock = SnapshotMapping.builder("stock").topic(topic).table("stock").keyColumns("region", "bin")
                    .dataSource(other.dataSource())
                    .rows(row -> new SnapshotRow(row.getString("region") + "/" + row.getInt("bin"), 1,
                            ItemChanged.newBuilder().setQuantity(row.getLong("qty")).build()))
                    .build();
            try (FeedServer stockServer = Fixtures.server(otherLog, topic).sourceName("inventory").snapshot(stock).build().start()) {
                FeedClient client = FeedClient.builder(stockServer.uri()).token(TOKEN).build();
                List<String> subjects = new ArrayList<>();
                String cursor = "";
                do {
                    SnapshotPage page = client.snapshot("stock", cursor, 4);
                    for (FeedEntry entry : page.getEntriesList()) {
                        subjects.add(CODEC.decode(entry.getEnvelope().toByteArray()).getSubject());
                    }
                    cursor = page.getNextCursor();
                } while (!cursor.isEmpty());

                assertThat(subjects).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    void bootstrapWaitsOutAServerThatIsNotUpYetAndAppliesEveryRow() throws Exception {
        int port = server.uri().getPort();
        server.close();
        FeedClient client = FeedClient.builder(java.net.URI.create("http://127.0.0.1:" + port)).token(TOKEN).build();
        java.util.Set<String> subjects = java.util.concurrent.ConcurrentHashMap.newKeySet();
        PositionStore positions = PositionStore.inMemory();
        Bootstrap bootstrap = Bootstrap.builder(client, "items").group("copy").positions(positions).pageSize(4)
                .maxBackoff(java.time.Duration.ofMillis(200)).build();

        java.util.concurrent.CompletableFuture<Bootstrap.Result> running = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return bootstrap.run(delivery -> {
                    subjects.add(CODEC.decode(delivery.bytes()).getSubject());
                    delivery.ack();
                });
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        server = Fixtures.server(log, topic).port(port).sourceName("inventory")
                .snapshot(Items.mapping("items", topic, db.dataSource())).build().start();

        Bootstrap.Result result = running.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(result.position()).isEqualTo(25);
        assertThat(positions.load("copy", topic)).isEqualTo(25);
        assertThat(subjects).containsExactlyInAnyOrderElementsOf(
                Items.rows(db.dataSource()).stream().map(r -> r.split("\\|")[0]).toList());
        assertThat(result.rows()).isEqualTo(subjects.size());
    }

    @Test
    void malformedCursorAndUnknownSnapshotAreRefused() {
        FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();

        assertThatThrownBy(() -> client.snapshot("items", "not-a-cursor!", 4))
                .isInstanceOf(FeedRejectedException.class).hasMessageContaining("400").hasMessageContaining("cursor");
        assertThatThrownBy(() -> client.snapshot("orders", "", 4))
                .isInstanceOf(FeedRejectedException.class).hasMessageContaining("404").hasMessageContaining("no snapshot named 'orders'");
    }

    @Test
    void snapshotIsReadableAsJson() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(server.uri() + "/v1/snapshots/items?limit=2"))
                        .header("Authorization", "Bearer " + TOKEN).header("Accept", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"name\":\"items\"", "\"position\":\"25\"", "\"nextCursor\":", "\"sequence\":");
    }
}
