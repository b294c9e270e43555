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
import io.eventsync.jdbc.WalOutbox;
import io.eventsync.jdbc.WalRelay;
import io.eventsync.jdbc.WalSlot;
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
 * What a writer pays per event in each relay mode, side by side on one PostgreSQL cluster with
 * {@code wal_level = logical} (the one {@code scripts/pg-logical.sh} starts on 5433): the same business
 * transaction (update one account row, commit; synchronous commit) with
 * <ul>
 *   <li>{@code plain}: no event;</li>
 *   <li>{@code select-1}: no event, one extra {@code SELECT 1}: what any extra statement costs (the
 *       floor of every mode below, which all add one round trip);</li>
 *   <li>{@code outbox}: today's outbox row ({@link Outbox}, NOTIFY rate-limited), the query relay
 *       reading and deleting it;</li>
 *   <li>{@code insert-only}: a row inserted into a table of the publication and left there, as
 *       Debezium's outbox writers do (the rows are deleted between rounds, outside the measurement);</li>
 *   <li>{@code wal-message}: {@link WalOutbox} logical message ({@code pg_logical_emit_message}), the WAL
 *       relay reading it;</li>
 *   <li>{@code wal-row}: {@link WalOutbox} outbox row inserted and deleted in the same round trip, the
 *       WAL relay reading the insert.</li>
 * </ul>
 * Both relays run throughout with a publisher that confirms at once, so each mode pays for the same
 * background (the WAL decoder reads every mode's WAL). Modes alternate in rounds; medians are reported,
 * with the ratio to {@code plain}. Writes {@code bench-results/wal-writer-cost.txt}.
 *
 * <p>Usage: {@code WalWriterCost [--seconds 5] [--rounds 3] [--threads 8]
 * [--pg jdbc:postgresql://127.0.0.1:5433/test?user=postgres] [--out bench-results/wal-writer-cost.txt]}
 */
public final class WalWriterCost {
    private static final int ACCOUNTS = 2_000;
    private static final List<String> MODES = List.of("plain", "select-1", "outbox", "insert-only", "wal-message",
            "wal-row");

    private record Result(double txPerSecond, double p50Micros, double p99Micros) {}

    public static void main(String[] args) throws Exception {
        int seconds = intArg(args, "--seconds", 5);
        int rounds = intArg(args, "--rounds", 3);
        int threads = intArg(args, "--threads", 8);
        String pgUrl = arg(args, "--pg", "jdbc:postgresql://127.0.0.1:5433/test?user=postgres");
        Path out = Path.of(arg(args, "--out", "bench-results/wal-writer-cost.txt"));

        try (Rig rig = Rig.open(pgUrl, threads)) {
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
            String report = report(results, threads, rounds, seconds, pgUrl);
            System.out.print(report);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, report);
            System.out.println("written to " + out.toAbsolutePath());
        }
    }

    private static String report(Map<String, List<Result>> results, int threads, int rounds, int seconds, String url) {
        StringBuilder b = new StringBuilder();
        b.append("# Writer cost per relay mode (eventsync WalWriterCost), ").append(Instant.now()).append('\n');
        b.append(String.format(Locale.ROOT, "# PostgreSQL %s, wal_level=logical, synchronous_commit on; %d writer threads,"
                + " %d rounds x %d s per mode, %d accounts, %d cores, load average at the end %s%n",
                url.replaceAll("\\?.*", ""), threads, rounds, seconds, ACCOUNTS, Runtime.getRuntime().availableProcessors(),
                loadAverage()));
        b.append(String.format(Locale.ROOT, "%-12s %10s %8s %10s %10s %10s   %s%n", "mode", "tx/s", "x plain", "p50 us",
                "p99 us", "x p50", "tx/s per round"));
        Result plain = median(results.get("plain"));
        for (Map.Entry<String, List<Result>> e : results.entrySet()) {
            Result m = median(e.getValue());
            String perRound = e.getValue().stream().map(r -> String.format(Locale.ROOT, "%.0f", r.txPerSecond))
                    .reduce((x, y) -> x + " / " + y).orElse("");
            b.append(String.format(Locale.ROOT, "%-12s %10.0f %8.2f %10.0f %10.0f %10.2f   %s%n", e.getKey(), m.txPerSecond,
                    m.txPerSecond / plain.txPerSecond, m.p50Micros, m.p99Micros, m.p50Micros / plain.p50Micros, perRound));
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
                     PreparedStatement one = c.prepareStatement("SELECT 1");
                     PreparedStatement insert = c.prepareStatement("INSERT INTO eventsync_outbox (source, event_id,"
                             + " subject, event_type, event_sequence, payload) VALUES ('bench-dbz', ?, ?, ?, ?, ?)")) {
                    c.setAutoCommit(false);
                    while (!stop.get()) {
                        int account = ThreadLocalRandom.current().nextInt(ACCOUNTS);
                        long start = System.nanoTime();
                        update.setInt(1, account);
                        update.executeUpdate();
                        if (mode.equals("select-1")) {
                            try (ResultSet rs = one.executeQuery()) {
                                rs.next();
                            }
                        } else if (mode.equals("insert-only")) {
                            Envelope e = Events.create("bench", "account-" + account, start, StringValue.of("+1"));
                            insert.setString(1, e.getId());
                            insert.setString(2, e.getSubject());
                            insert.setString(3, e.getType());
                            insert.setLong(4, e.getSequence());
                            insert.setBytes(5, codec.encode(e));
                            insert.executeUpdate();
                        } else if (!mode.equals("plain")) {
                            Envelope e = Events.create("bench", "account-" + account, start, StringValue.of("+1"));
                            byte[] bytes = codec.encode(e);
                            switch (mode) {
                                case "outbox" -> rig.outbox.append(c, e, bytes);
                                case "wal-message" -> rig.walMessage.append(c, e, bytes);
                                default -> rig.walRow.append(c, e, bytes);
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

    /** A schema with the business table and eventsync's tables, a slot, and both relays running. */
    private static final class Rig implements AutoCloseable {
        final String baseUrl;
        final String schema;
        final String slot;
        final HikariDataSource pool;
        final Outbox outbox;
        final WalOutbox walMessage;
        final WalOutbox walRow;
        final Relay relay;
        final WalRelay walRelay;

        private Rig(String baseUrl, String schema, HikariDataSource pool) {
            this.baseUrl = baseUrl;
            this.schema = schema;
            this.pool = pool;
            SchemaNames names = SchemaNames.of(schema);
            this.slot = "es_bench_" + schema.substring(schema.length() - 8);
            WalSlot.create(pool, names, slot, slot);
            this.outbox = Outbox.of("bench", names);
            this.walMessage = WalOutbox.of("bench-wal", names);
            this.walRow = WalOutbox.of("bench-wal", names).capture(WalOutbox.Capture.ROW);
            this.relay = Relay.builder().dataSource(pool).names(names).source("bench").publisher(new Discard())
                    .meterRegistry(new SimpleMeterRegistry()).build().start();
            this.walRelay = WalRelay.builder().dataSource(pool).names(names).source("bench-wal").slot(slot)
                    .publication(slot).publisher(new Discard()).meterRegistry(new SimpleMeterRegistry()).build().start();
        }

        static Rig open(String baseUrl, int threads) throws SQLException {
            String schema = "es_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
            try (Connection c = DriverManager.getConnection(baseUrl); Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA " + schema);
            }
            String url = baseUrl + (baseUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(url);
            config.setMaximumPoolSize(threads + 8);
            HikariDataSource pool = new HikariDataSource(config);
            EventsyncSchema.install(pool, SchemaNames.of(schema));
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE bench_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL, version BIGINT NOT NULL)");
                st.execute("INSERT INTO bench_accounts SELECT i, 0, 0 FROM generate_series(0, " + (ACCOUNTS - 1) + ") i");
            }
            return new Rig(baseUrl, schema, pool);
        }

        /** Between rounds: the query relay emptied the outbox and the WAL relay confirmed the WAL so far. */
        void awaitCaughtUp() throws Exception {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            long target;
            try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")) {
                rs.next();
                target = rs.getLong(1);
            }
            try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
                st.execute("DELETE FROM eventsync_outbox WHERE source = 'bench-dbz'");
            }
            while (System.nanoTime() < deadline) {
                long backlog;
                try (Connection c = pool.getConnection(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM eventsync_outbox")) {
                    rs.next();
                    backlog = rs.getLong(1);
                }
                if (backlog == 0 && WalSlot.status(pool, slot).orElseThrow().confirmedLsn() >= target) {
                    return;
                }
                Thread.sleep(50); // benchmark harness only: waiting for the relays between rounds
            }
            throw new IllegalStateException("the relays did not catch up within 120 s");
        }

        @Override
        public void close() {
            relay.close();
            walRelay.close();
            WalSlot.drop(pool, slot, Duration.ofSeconds(30));
            WalSlot.dropPublication(pool, slot);
            pool.close();
            try (Connection c = DriverManager.getConnection(baseUrl); Statement st = c.createStatement()) {
                st.execute("DROP SCHEMA " + schema + " CASCADE");
            } catch (SQLException e) {
                System.err.println("could not drop schema " + schema + ": " + e.getMessage());
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
