package io.eventsync.bench;

import com.google.protobuf.StringValue;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Outbox write overhead: the same business transaction (update one account row, commit) with and
 * without its outbox row, in the same run, on PostgreSQL and H2 (file). Reports the ratio of
 * throughput and of p50 transaction latency (begin to commit returned). A relay runs throughout
 * with a publisher that confirms at once, so the outbox stays small as in production.
 * Modes alternate in rounds so that drift (cache, vacuum, the other processes on the machine)
 * affects both alike. Goal (brief): with outbox <= 1.15x the plain transaction.
 *
 * <p>Usage: {@code OutboxOverhead [--seconds 5] [--rounds 3] [--threads 4] [--targets h2,postgres]
 * [--pg jdbc:postgresql://127.0.0.1:5432/test?user=postgres] [--out bench-results/outbox-overhead.txt]}
 */
public final class OutboxOverhead {
    private static final int ACCOUNTS = 1_000;
    private static boolean RELAY = true;
    private static java.time.Duration LINGER = java.time.Duration.ofMillis(2);

    private record Result(double txPerSecond, double p50Micros, double p99Micros) {}

    public static void main(String[] args) throws Exception {
        int seconds = intArg(args, "--seconds", 5);
        int rounds = intArg(args, "--rounds", 3);
        int threads = intArg(args, "--threads", 4);
        List<String> targets = Arrays.asList(arg(args, "--targets", "h2,postgres").split(","));
        String pgUrl = arg(args, "--pg", "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");
        RELAY = Boolean.parseBoolean(arg(args, "--relay", "true"));
        LINGER = java.time.Duration.ofMillis(intArg(args, "--linger-ms", 2));
        Path out = Path.of(arg(args, "--out", "bench-results/outbox-overhead.txt"));

        StringBuilder report = new StringBuilder();
        report.append("# Outbox write overhead (eventsync OutboxOverhead), ").append(Instant.now()).append('\n');
        report.append(String.format(Locale.ROOT, "# %d threads, %d rounds x %d s per mode, %d accounts, %d cores, relay %s%n",
                threads, rounds, seconds, ACCOUNTS, Runtime.getRuntime().availableProcessors(),
                RELAY ? "running (confirms at once)" : "off (outbox grows; cleared between rounds)"));
        report.append(String.format(Locale.ROOT, "%-10s %-8s %12s %10s %10s%n", "database", "mode", "tx/s", "p50 us", "p99 us"));
        List<String> summary = new ArrayList<>();
        for (String target : targets) {
            Target t = Target.open(target.strip(), pgUrl, threads);
            try {
                Result plain = null;
                Result withOutbox = null;
                runMode(t, false, threads, 2); // warm-up
                runMode(t, true, threads, 2);
                t.awaitDrained();
                List<Result> plains = new ArrayList<>();
                List<Result> outboxes = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    t.awaitDrained();
                    plains.add(runMode(t, false, threads, seconds));
                    outboxes.add(runMode(t, true, threads, seconds));
                }
                t.awaitDrained();
                plain = median(plains);
                withOutbox = median(outboxes);
                report.append(line(t.name, "plain", plain)).append(line(t.name, "outbox", withOutbox));
                summary.add(String.format(Locale.ROOT,
                        "%-10s throughput ratio (outbox/plain) %.3f   p50 latency ratio (outbox/plain) %.3f",
                        t.name, withOutbox.txPerSecond / plain.txPerSecond, withOutbox.p50Micros / plain.p50Micros));
            } finally {
                t.close();
            }
        }
        report.append('\n');
        summary.forEach(s -> report.append(s).append('\n'));
        System.out.print(report);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("written to " + out.toAbsolutePath());
    }

    private static String line(String db, String mode, Result r) {
        return String.format(Locale.ROOT, "%-10s %-8s %12.0f %10.0f %10.0f%n", db, mode, r.txPerSecond, r.p50Micros, r.p99Micros);
    }

    private static Result median(List<Result> results) {
        List<Result> sorted = new ArrayList<>(results);
        sorted.sort((a, b) -> Double.compare(a.txPerSecond, b.txPerSecond));
        Result mid = sorted.get(sorted.size() / 2);
        double[] p50 = results.stream().mapToDouble(Result::p50Micros).sorted().toArray();
        double[] p99 = results.stream().mapToDouble(Result::p99Micros).sorted().toArray();
        return new Result(mid.txPerSecond, p50[p50.length / 2], p99[p99.length / 2]);
    }

    private static Result runMode(Target t, boolean outbox, int threads, int seconds) throws Exception {
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
                try (Connection c = t.pool.getConnection();
                     PreparedStatement update = c.prepareStatement(
                             "UPDATE bench_accounts SET balance = balance + 1, version = version + 1 WHERE id = ?")) {
                    c.setAutoCommit(false);
                    while (!stop.get()) {
                        int account = ThreadLocalRandom.current().nextInt(ACCOUNTS);
                        long start = System.nanoTime();
                        update.setInt(1, account);
                        update.executeUpdate();
                        if (outbox) {
                            Envelope e = Events.create("bench", "account-" + account, start, StringValue.of("+1"));
                            t.outbox.append(c, e, codec.encode(e));
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

    /** One database under test: its pool, business table, outbox and a relay keeping the outbox small. */
    private static final class Target implements AutoCloseable {
        final String name;
        final HikariDataSource pool;
        final Outbox outbox;
        final Relay relay;
        final Runnable cleanup;

        private Target(String name, HikariDataSource pool, SchemaNames names, Runnable cleanup) throws SQLException {
            this.name = name;
            this.pool = pool;
            this.cleanup = cleanup;
            EventsyncSchema.install(pool, names);
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE bench_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL)");
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_accounts VALUES (?, 0, 0)")) {
                    for (int i = 0; i < ACCOUNTS; i++) {
                        ps.setInt(1, i);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            this.outbox = Outbox.of("bench", names);
            this.relay = !RELAY ? null : Relay.builder().dataSource(pool).names(names).source("bench").publisher(new Discard()).linger(LINGER)
                    .meterRegistry(new SimpleMeterRegistry()).build().start();
        }

        static Target open(String name, String pgUrl, int threads) throws Exception {
            String id = "es_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
            switch (name) {
                case "postgres" -> {
                    try (Connection c = DriverManager.getConnection(pgUrl); Statement st = c.createStatement()) {
                        st.execute("CREATE SCHEMA " + id);
                    }
                    String url = pgUrl + (pgUrl.contains("?") ? "&" : "?") + "currentSchema=" + id;
                    return new Target(name, pool(url, threads + 4), SchemaNames.of(id), () -> {
                        try (Connection c = DriverManager.getConnection(pgUrl); Statement st = c.createStatement()) {
                            st.execute("DROP SCHEMA " + id + " CASCADE");
                        } catch (SQLException e) {
                            System.err.println("could not drop schema " + id + ": " + e.getMessage());
                        }
                    });
                }
                case "h2" -> {
                    Path dir = Files.createTempDirectory("eventsync-bench");
                    String url = "jdbc:h2:file:" + dir.resolve(id) + ";LOCK_TIMEOUT=10000";
                    return new Target(name, pool(url, threads + 4), SchemaNames.of("PUBLIC"), () -> deleteAll(dir));
                }
                default -> throw new IllegalArgumentException("target must be h2 or postgres, but was: " + name);
            }
        }

        /** Waits until the relay emptied the outbox, so a plain round does not pay for the previous outbox round. */
        void awaitDrained() throws Exception {
            if (relay == null) {
                try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                    st.execute("DELETE FROM \"eventsync_outbox\"");
                }
                return;
            }
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                     var rs = st.executeQuery("SELECT COUNT(*) FROM \"eventsync_outbox\"")) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(50); // benchmark harness only: waiting for the relay between rounds
            }
            throw new IllegalStateException("the relay did not drain the outbox of " + name + " within 120 s");
        }

        @Override
        public void close() {
            if (relay != null) {
                relay.close();
            }
            pool.close();
            cleanup.run();
        }
    }

    private static HikariDataSource pool(String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        if (url.startsWith("jdbc:h2:")) {
            config.setUsername("sa");
        }
        config.setMaximumPoolSize(size);
        return new HikariDataSource(config);
    }

    private static void deleteAll(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e.getMessage());
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
