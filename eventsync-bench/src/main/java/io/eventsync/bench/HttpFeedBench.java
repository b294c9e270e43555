package io.eventsync.bench;

import com.google.protobuf.StringValue;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.http.Bootstrap;
import io.eventsync.http.FeedClient;
import io.eventsync.http.FeedServer;
import io.eventsync.http.HttpFeedTransport;
import io.eventsync.http.JdbcLogFeedSource;
import io.eventsync.http.PositionStore;
import io.eventsync.http.SnapshotMapping;
import io.eventsync.http.SnapshotRow;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * API synchronization end to end on PostgreSQL: writers commit business rows with their outbox
 * events; the relay appends them to the embedded log; a {@link FeedServer} serves the log; an
 * {@link HttpFeedTransport} pulls it over loopback HTTP into a Dispatcher + JdbcApplyScope + CopyTable
 * in a second schema. Reports events/s at saturation, freshness p50/p99 (event time -> copy
 * acknowledged, i.e. committed) at half that rate, and snapshot bootstrap rows/s.
 *
 * <p>Run: {@code java -cp ... io.eventsync.bench.HttpFeedBench [events] [snapshotRows] [out-file]}
 */
public final class HttpFeedBench {
    private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String TOKEN = "bench-token-0123456789abcdef";
    private static final int WRITERS = 4;
    private static final int KEYS = 10_000;

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int snapshotRows = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        Path out = Path.of(args.length > 2 ? args[2] : "bench-results/http.txt");
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String sourceSchema = "bench_http_src_" + suffix;
        String copySchema = "bench_http_copy_" + suffix;
        String bootSchema = "bench_http_boot_" + suffix;
        List<String> report = new ArrayList<>();
        report.add("# eventsync HTTP feed benchmark, " + Instant.now());
        report.add("# PostgreSQL outbox -> relay -> embedded log -> FeedServer (loopback HTTP, protobuf) -> HttpFeedTransport"
                + " -> Dispatcher(8 lanes) + JdbcApplyScope + CopyTable -> PostgreSQL copy; synchronous_commit on");
        report.add("# machine: " + Runtime.getRuntime().availableProcessors() + " cores (shared), load average at start "
                + loadAverage() + ", writers=" + WRITERS + ", keys=" + KEYS);
        try {
            for (String schema : List.of(sourceSchema, copySchema, bootSchema)) {
                admin("CREATE SCHEMA " + schema);
            }
            try (HikariDataSource source = pool(sourceSchema, 12);
                 HikariDataSource copy = pool(copySchema, 12);
                 HikariDataSource boot = pool(bootSchema, 12)) {
                run(source, copy, boot, events, snapshotRows, report);
            }
        } finally {
            for (String schema : List.of(sourceSchema, copySchema, bootSchema)) {
                admin("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
        report.forEach(System.out::println);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, report);
    }

    private static void run(HikariDataSource source, HikariDataSource copy, HikariDataSource boot, int events,
                            int snapshotRows, List<String> report) throws Exception {
        EventsyncSchema.install(source);
        EventsyncSchema.install(copy);
        EventsyncSchema.install(boot);
        exec(source, "CREATE TABLE items (id VARCHAR(64) PRIMARY KEY, value VARCHAR(200) NOT NULL, version BIGINT NOT NULL)");
        String topic = "items";
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (EmbeddedLog log = EmbeddedLog.builder().dataSource(source).build();
             Publisher publisher = log.publisher(topic);
             Relay relay = Relay.builder().dataSource(source).source("inventory").publisher(publisher)
                     .meterRegistry(meters).build().start();
             JdbcLogFeedSource feed = JdbcLogFeedSource.builder(source).build();
             FeedServer server = FeedServer.builder().source(feed).feed(topic).sourceName("inventory")
                     .snapshot(SnapshotMapping.builder("items").topic(topic).table("items").keyColumns("id")
                             .dataSource(source).rows(row -> new SnapshotRow(row.getString("id"), row.getLong("version"),
                                     StringValue.of(row.getString("value")))).build())
                     .client("copy", TOKEN).rateLimit(1000, 1000).maxPageSize(2000).build().start()) {
            FeedClient client = FeedClient.builder(server.uri()).token(TOKEN).build();
            Writers writers = new Writers(source);

            // Saturation: writers as fast as they can; the copy follows over HTTP.
            Freshness sat = new Freshness(events);
            try (CopyService copyService = new CopyService(copy, "copy");
                 HttpFeedTransport transport = HttpFeedTransport.builder(client).pageSize(2000)
                         .positions(PositionStore.of(Offsets.in(copy))).build();
                 Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, "copy"),
                         sat.wrap(copyService.dispatcher))) {
                long start = System.nanoTime();
                long commitNanos = writers.write(events, 0);
                sat.awaitAcked(events, Duration.ofMinutes(10));
                double seconds = (System.nanoTime() - start) / 1e9;
                double produced = events / (commitNanos / 1e9);
                double rate = events / seconds;
                report.add(String.format("saturation: %d events, producers committed %.0f events/s, end to end %.0f events/s"
                        + " (%.0f%% of the producers' rate), freshness p50 %.1f ms p99 %.1f ms",
                        events, produced, rate, 100 * rate / produced, sat.percentile(50), sat.percentile(99)));

                // Half load: a paced rate, freshness is the figure.
                int halfRate = (int) Math.max(100, rate / 2);
                int halfEvents = Math.min(halfRate * 10, events);
                Freshness half = new Freshness(halfEvents);
                sat.forward(half);
                io.micrometer.core.instrument.Timer relayLag = meters.get("eventsync.relay.lag").timer();
                long lagCount = relayLag.count();
                double lagTotal = relayLag.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS);
                writers.write(halfEvents, halfRate);
                half.awaitAcked(halfEvents, Duration.ofMinutes(10));
                double relayMean = (relayLag.totalTime(java.util.concurrent.TimeUnit.MILLISECONDS) - lagTotal)
                        / Math.max(1, relayLag.count() - lagCount);
                report.add(String.format("half load: %d events at %d events/s, freshness (source commit -> copy commit)"
                        + " p50 %.1f ms p99 %.1f ms max %.1f ms; of which source commit -> received over HTTP p50 %.1f ms"
                        + " p99 %.1f ms, and source commit -> in the log (relay lag) mean %.1f ms",
                        halfEvents, halfRate, half.percentile(50), half.percentile(99), half.percentile(100),
                        half.arrivalPercentile(50), half.arrivalPercentile(99), relayMean));
            }

            // Snapshot bootstrap: a fresh copy pages the snapshot through the apply path.
            writers.fill(snapshotRows);
            try (CopyService bootCopy = new CopyService(boot, "boot")) {
                Bootstrap bootstrap = Bootstrap.builder(client, "items").group("boot").pageSize(2000)
                        .positions(PositionStore.of(Offsets.in(boot))).build();
                long start = System.nanoTime();
                Bootstrap.Result result = bootstrap.run(bootCopy.dispatcher);
                double seconds = (System.nanoTime() - start) / 1e9;
                report.add(String.format("snapshot bootstrap: %d rows in %.1f s = %.0f rows/s (applied through CopyTable),"
                        + " feed position %d", result.rows(), seconds, result.rows() / seconds, result.position()));
            }
        }
    }

    /** The copy side: Dispatcher (8 lanes) -> JdbcApplyScope (inbox) -> CopyTable(items). */
    private static final class CopyService implements AutoCloseable {
        final Dispatcher dispatcher;
        private final JdbcApplyScope scope;

        CopyService(HikariDataSource db, String group) {
            CopyTable table = CopyTable.builder(StringValue.getDescriptor(), "items")
                    .keyFromSubject("id").column("value").versionColumn("version").build();
            table.createTable(db);
            JdbcDeadLetters deadLetters = JdbcDeadLetters.create(db);
            scope = JdbcApplyScope.builder(Inbox.builder(db).build()).deadLetters(deadLetters).build();
            dispatcher = Dispatcher.builder(group)
                    .handlers(table.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                    .types(TypeRegistry.builder().add(StringValue.getDefaultInstance()).build())
                    .codec(EnvelopeCodec.defaults()).validator(EnvelopeValidator.defaults())
                    .applyScope(scope).deadLetters(deadLetters).lanes(8).maxInFlight(4000)
                    .shutdownTimeout(Duration.ofSeconds(10)).build();
        }

        @Override
        public void close() {
            dispatcher.close();
            scope.close();
        }
    }

    /** Business transactions: upsert an item and append its event to the outbox, in one commit. */
    private static final class Writers {
        private final HikariDataSource db;
        private final Outbox outbox = Outbox.of("inventory");
        private final AtomicLong[] versions = new AtomicLong[KEYS];

        Writers(HikariDataSource db) {
            this.db = db;
            Arrays.setAll(versions, i -> new AtomicLong());
        }

        /** Writes {@code n} events with {@link #WRITERS} threads, paced to {@code rate}/s when > 0; returns the nanos taken. */
        long write(int n, int rate) throws InterruptedException {
            AtomicLong next = new AtomicLong();
            long start = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                Thread t = new Thread(() -> {
                    long i;
                    while ((i = next.getAndIncrement()) < n) {
                        if (rate > 0) {
                            long due = start + (long) (i * 1e9 / rate);
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                LockSupport.parkNanos(wait);
                            }
                        }
                        writeOne(ThreadLocalRandom.current().nextInt(KEYS));
                    }
                }, "bench-writer-" + w);
                t.start();
                threads.add(t);
            }
            for (Thread t : threads) {
                t.join();
            }
            return System.nanoTime() - start;
        }

        /** Inserts {@code rows} more rows directly (no events), for the snapshot. */
        void fill(int rows) throws SQLException {
            try (Connection c = db.getConnection();
                 PreparedStatement st = c.prepareStatement("INSERT INTO items (id, value, version) VALUES (?, ?, 1)")) {
                c.setAutoCommit(false);
                for (int i = 0; i < rows; i++) {
                    st.setString(1, "bulk-" + i);
                    st.setString(2, "value-" + i);
                    st.addBatch();
                    if (i % 1000 == 999) {
                        st.executeBatch();
                    }
                }
                st.executeBatch();
                c.commit();
            }
        }

        private void writeOne(int key) {
            String id = "key-" + key;
            // Per-key versions must commit in order: serialize writers of one key on its counter.
            synchronized (versions[key]) {
                long version = versions[key].incrementAndGet();
                Envelope event = Events.create("inventory", id, version, StringValue.of("v" + version));
                try (Connection c = db.getConnection()) {
                    c.setAutoCommit(false);
                    try (PreparedStatement st = c.prepareStatement("INSERT INTO items (id, value, version) VALUES (?, ?, ?)"
                            + " ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version")) {
                        st.setString(1, id);
                        st.setString(2, "v" + version);
                        st.setLong(3, version);
                        st.executeUpdate();
                    }
                    outbox.append(c, event);
                    c.commit();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * Freshness: from the event's time (set just before its source commit) to the copy's acknowledgement
     * (sent by the dispatcher after the apply transaction committed). Same JVM, same clock.
     */
    private static final class Freshness {
        private final long[] appliedMicros;
        private final AtomicLong count = new AtomicLong();
        private final long[] arrivalMicros;
        private final AtomicLong arrivals = new AtomicLong();
        private volatile Freshness forwardTo;

        Freshness(int capacity) {
            this.appliedMicros = new long[capacity];
            this.arrivalMicros = new long[capacity];
        }

        void forward(Freshness next) {
            this.forwardTo = next;
        }

        DeliveryHandler wrap(DeliveryHandler target) {
            return delivery -> {
                Freshness f = forwardTo != null ? forwardTo : this;
                long i = f.arrivals.getAndIncrement();
                if (i < f.arrivalMicros.length) {
                    f.arrivalMicros[(int) i] = ageMicros(delivery.bytes());
                }
                target.onDelivery(new Timed(delivery, this));
            };
        }

        /** Freshness at the puller: the event came through relay, log and HTTP, not yet applied. */
        double arrivalPercentile(double p) {
            return percentileOf(arrivalMicros, (int) Math.min(arrivals.get(), arrivalMicros.length), p);
        }

        void record(long micros) {
            Freshness f = forwardTo != null ? forwardTo : this;
            long i = f.count.getAndIncrement();
            if (i < f.appliedMicros.length) {
                f.appliedMicros[(int) i] = micros;
            }
            synchronized (f) {
                f.notifyAll();
            }
        }

        synchronized void awaitAcked(int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count.get() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("only " + count.get() + " of " + n + " events applied within " + timeout);
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        double percentile(double p) {
            return percentileOf(appliedMicros, (int) Math.min(count.get(), appliedMicros.length), p);
        }

        private static double percentileOf(long[] values, int n, double p) {
            long[] sorted = Arrays.copyOf(values, n);
            Arrays.sort(sorted);
            int index = (int) Math.min(n - 1, Math.max(0, Math.ceil(p / 100 * n) - 1));
            return sorted[index] / 1000.0;
        }
    }

    private record Timed(Delivery delivery, Freshness freshness) implements Delivery {
        @Override public String partition() { return delivery.partition(); }
        @Override public long offset() { return delivery.offset(); }
        @Override public byte[] bytes() { return delivery.bytes(); }
        @Override public int deliveryCount() { return delivery.deliveryCount(); }

        @Override
        public void ack() {
            delivery.ack();
            freshness.record(ageMicros(delivery.bytes()));
        }
    }

    /** Microseconds since the event's time (set just before its source transaction commits). */
    private static long ageMicros(byte[] envelope) {
        try {
            Envelope e = Envelope.parseFrom(envelope);
            return Duration.between(Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos()), Instant.now())
                    .toNanos() / 1000;
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static HikariDataSource pool(String schema, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(PG + "?currentSchema=" + schema);
        config.setUsername("postgres");
        config.setMaximumPoolSize(size);
        config.setPoolName("bench-" + schema);
        return new HikariDataSource(config);
    }

    private static void exec(HikariDataSource db, String sql) throws SQLException {
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(PG, "postgres", ""); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
