package io.eventsync.bench;

import com.google.protobuf.StringValue;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.BinlogRelay;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a writer pays per event on MariaDB in each relay mode, side by side on the server with row-format
 * binlogs that {@code scripts/mariadb-binlog.sh} starts on 3307: the same business transaction (update
 * one account row, commit) with
 * <ul>
 *   <li>{@code plain}: no event;</li>
 *   <li>{@code outbox-query}: an outbox row ({@link Outbox}), the query relay reading and deleting it;</li>
 *   <li>{@code outbox-binlog}: the same row, the binlog relay reading the insert from the binlog and
 *       deleting relayed rows in bulk (the mode {@link BinlogRelay} implements);</li>
 *   <li>{@code writer-delete}: the row inserted and deleted by the writer in its own transaction (the
 *       binlog keeps the insert, the binlog relay reads it), the alternative to the relay's delete.</li>
 * </ul>
 * Both relays run throughout (sources {@code bench-q} and {@code bench-b}) with a publisher that
 * confirms at once. Modes alternate in rounds; medians are reported, with the ratio to {@code plain}.
 * Writes {@code bench-results/binlog-writer-cost.txt}.
 *
 * <p>Usage: {@code BinlogWriterCost [--seconds 5] [--rounds 3] [--threads 8]
 * [--url jdbc:mariadb://127.0.0.1:3307/] [--out bench-results/binlog-writer-cost.txt]}
 */
public final class BinlogWriterCost {
    private static final int ACCOUNTS = 2_000;
    private static final List<String> MODES = List.of("plain", "outbox-query", "outbox-binlog", "writer-delete");

    private record Result(double txPerSecond, double p50Micros, double p99Micros) {}

    public static void main(String[] args) throws Exception {
        int seconds = intArg(args, "--seconds", 5);
        int rounds = intArg(args, "--rounds", 3);
        int threads = intArg(args, "--threads", 8);
        String url = arg(args, "--url", "jdbc:mariadb://127.0.0.1:3307/");
        Path out = Path.of(arg(args, "--out", "bench-results/binlog-writer-cost.txt"));

        try (Rig rig = Rig.open(url, threads)) {
            for (String mode : MODES) {
                run(rig, mode, threads, 2); // warm-up
            }
            Map<String, List<Result>> results = new LinkedHashMap<>();
            for (int r = 0; r < rounds; r++) {
                for (String mode : MODES) {
                    rig.awaitCaughtUp();
                    results.computeIfAbsent(mode, k -> new ArrayList<>()).add(run(rig, mode, threads, seconds));
                }
            }
            rig.awaitCaughtUp();
            String report = report(results, threads, rounds, seconds, url);
            System.out.print(report);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, report);
            System.out.println("written to " + out.toAbsolutePath());
        }
    }

    private static String report(Map<String, List<Result>> results, int threads, int rounds, int seconds, String url) {
        StringBuilder b = new StringBuilder();
        b.append("# Writer cost per relay mode on MariaDB (eventsync BinlogWriterCost), ").append(Instant.now()).append('\n');
        b.append(String.format(Locale.ROOT, "# %s, log_bin, binlog_format=ROW; %d writer threads, %d rounds x %d s per mode,"
                + " %d accounts, %d cores, load average at the end %s%n", url, threads, rounds, seconds, ACCOUNTS,
                Runtime.getRuntime().availableProcessors(), loadAverage()));
        b.append(String.format(Locale.ROOT, "%-14s %10s %8s %10s %10s   %s%n", "mode", "tx/s", "x plain", "p50 us",
                "p99 us", "tx/s per round"));
        Result plain = median(results.get("plain"));
        for (Map.Entry<String, List<Result>> e : results.entrySet()) {
            Result m = median(e.getValue());
            String perRound = e.getValue().stream().map(r -> String.format(Locale.ROOT, "%.0f", r.txPerSecond))
                    .reduce((x, y) -> x + " / " + y).orElse("");
            b.append(String.format(Locale.ROOT, "%-14s %10.0f %8.2f %10.0f %10.0f   %s%n", e.getKey(), m.txPerSecond,
                    m.txPerSecond / plain.txPerSecond, m.p50Micros, m.p99Micros, perRound));
        }
        return b.toString();
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ", 4)[0];
        } catch (Exception e) {
            return "?";
        }
    }

    private static Result median(List<Result> results) {
        double[] tps = results.stream().mapToDouble(Result::txPerSecond).sorted().toArray();
        double[] p50 = results.stream().mapToDouble(Result::p50Micros).sorted().toArray();
        double[] p99 = results.stream().mapToDouble(Result::p99Micros).sorted().toArray();
        return new Result(tps[tps.length / 2], p50[p50.length / 2], p99[p99.length / 2]);
    }

    private static Result run(Rig rig, String mode, int threads, int seconds) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(threads);
        long[][] latencies = new long[threads][];
        int[] counts = new int[threads];
        EnvelopeCodec codec = EnvelopeCodec.defaults();
        for (int i = 0; i < threads; i++) {
            int worker = i;
            Thread th = new Thread(() -> {
                long[] lat = new long[1 << 20];
                int n = 0;
                try (Connection c = rig.pool.getConnection();
                     PreparedStatement update = c.prepareStatement(
                             "UPDATE bench_accounts SET balance = balance + 1, version = version + 1 WHERE id = ?");
                     PreparedStatement delete = c.prepareStatement("DELETE FROM eventsync_outbox WHERE id = ?")) {
                    c.setAutoCommit(false);
                    while (!stop.get()) {
                        int account = ThreadLocalRandom.current().nextInt(ACCOUNTS);
                        long start = System.nanoTime();
                        update.setInt(1, account);
                        update.executeUpdate();
                        if (!mode.equals("plain")) {
                            Envelope e = Events.create("bench", "account-" + account, start, StringValue.of("+1"));
                            byte[] bytes = codec.encode(e);
                            if (mode.equals("outbox-query")) {
                                rig.queryOutbox.append(c, e, bytes);
                            } else {
                                long id = rig.binlogOutbox.append(c, e, bytes).value();
                                if (mode.equals("writer-delete")) {
                                    delete.setLong(1, id);
                                    delete.executeUpdate();
                                }
                            }
                        }
                        c.commit();
                        if (n < lat.length) {
                            lat[n] = System.nanoTime() - start;
                        }
                        n++;
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                } finally {
                    latencies[worker] = Arrays.copyOf(lat, Math.min(n, lat.length));
                    counts[worker] = n;
                    done.countDown();
                }
            }, "bench-writer-" + i);
            th.start();
        }
        long begin = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        stop.set(true);
        done.await();
        double elapsed = (System.nanoTime() - begin) / 1e9;
        long total = Arrays.stream(counts).asLongStream().sum();
        long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
        return new Result(total / elapsed, all[all.length / 2] / 1e3, all[(int) (all.length * 0.99)] / 1e3);
    }

    /** A database with the business table and eventsync's tables, and both relays running. */
    private static final class Rig implements AutoCloseable {
        final String baseUrl;
        final String database;
        final HikariDataSource pool;
        final Outbox queryOutbox;
        final Outbox binlogOutbox;
        final Relay relay;
        final BinlogRelay binlogRelay;

        private Rig(String baseUrl, String database, HikariDataSource pool) {
            this.baseUrl = baseUrl;
            this.database = database;
            this.pool = pool;
            SchemaNames names = SchemaNames.of(database);
            this.queryOutbox = Outbox.of("bench-q", names);
            this.binlogOutbox = Outbox.of("bench-b", names);
            this.relay = Relay.builder().dataSource(pool).names(names).source("bench-q").publisher(new Discard())
                    .meterRegistry(new SimpleMeterRegistry()).build().start();
            BinlogRelay.begin(pool, names, "bench-b");
            this.binlogRelay = BinlogRelay.builder().dataSource(pool).names(names).source("bench-b")
                    .publisher(new Discard()).meterRegistry(new SimpleMeterRegistry()).build().start();
        }

        static Rig open(String baseUrl, int threads) throws SQLException {
            String database = "es_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
            try (Connection c = DriverManager.getConnection(baseUrl + "?user=root"); Statement st = c.createStatement()) {
                st.execute("CREATE DATABASE " + database);
            }
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(baseUrl + database + "?user=root");
            config.setMaximumPoolSize(threads + 8);
            HikariDataSource pool = new HikariDataSource(config);
            EventsyncSchema.install(pool, SchemaNames.of(database));
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE bench_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL)");
                st.execute("INSERT INTO bench_accounts SELECT seq, 0, 0 FROM seq_0_to_" + (ACCOUNTS - 1));
            }
            return new Rig(baseUrl, database, pool);
        }

        /** Between rounds: both relays emptied the outbox (the binlog relay deletes what it relayed). */
        void awaitCaughtUp() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (System.nanoTime() < deadline) {
                try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM eventsync_outbox")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(50); // benchmark harness only: waiting for the relays between rounds
            }
            throw new IllegalStateException("the relays did not catch up within 120 s");
        }

        @Override
        public void close() {
            relay.close();
            binlogRelay.close();
            pool.close();
            try (Connection c = DriverManager.getConnection(baseUrl + "?user=root"); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE " + database);
            } catch (SQLException e) {
                System.err.println("could not drop database " + database + ": " + e.getMessage());
            }
        }
    }

    /** Confirms every event at once: the benchmark measures the writer, not a transport. */
    private static final class Discard implements Publisher {
        @Override
        public CompletableFuture<Void> send(OutboundEvent event) {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public int maxEventBytes() {
            return 1 << 20;
        }

        @Override
        public void close() {}
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static int intArg(String[] args, String name, int fallback) {
        return Integer.parseInt(arg(args, name, String.valueOf(fallback)));
    }
}
