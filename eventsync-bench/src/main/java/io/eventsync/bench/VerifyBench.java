package io.eventsync.bench;

import io.eventsync.verify.DiffReport;
import io.eventsync.verify.TableDiff;
import io.eventsync.verify.TableProjection;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Verify at size: a PostgreSQL table against its copy, by checksums computed in the databases
 * ({@link TableDiff}). Three cases: the copy equal to the source; the same with scattered
 * differences (a third missing, a third extra, a third with a changed value); and the copy on MariaDB.
 * For each: wall time (best and median of the runs), rows/s, rows read into the JVM, the peak heap
 * used during the diff (pools' peak usage, reset before each run) and, when PostgreSQL runs on this
 * machine, the CPU time its backends spent per run (the cost of the diff whatever the machine's load).
 *
 * <p>The tables are made inside the databases ({@code generate_series}, MariaDB's {@code seq_1_to_N})
 * so that loading them takes seconds; both are dropped at the end.
 *
 * <p>Run: {@code mvn -B -q -pl eventsync-bench -am package -DskipTests && java -Xmx256m -cp
 * eventsync-bench/target/benchmarks.jar io.eventsync.bench.VerifyBench [--rows 1000000] [--differences 100]
 * [--runs 5] [--chunk 20000] [--cases equal,scattered,mariadb] [--out bench-results/verify.txt]}
 */
public final class VerifyBench {
    private static final String PG = System.getProperty("pg.url", "jdbc:postgresql://127.0.0.1:5432/test");
    private static final String MARIADB = System.getProperty("mariadb.url", "jdbc:mariadb://127.0.0.1:3306/");

    private VerifyBench() {}

    private record Figures(String name, long rows, List<Long> millis, DiffReport last, long peakHeapBytes,
                           double sourceCpu, double copyCpu) {
        long best() {
            return millis.stream().mapToLong(Long::longValue).min().orElse(0);
        }

        long median() {
            List<Long> sorted = millis.stream().sorted().toList();
            return sorted.get(sorted.size() / 2);
        }

        String line() {
            String cpu = sourceCpu < 0 ? "" : String.format(Locale.ROOT, "  database CPU per run: source %.2f s, copy %s",
                    sourceCpu, copyCpu < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f s", copyCpu));
            return String.format(Locale.ROOT, "%-38s %,11d rows  best %6.2f s  median %6.2f s  %,12.0f rows/s  %s"
                            + "  %,d rows read  %,d ranges  peak heap %.0f MiB%s",
                    name, rows, best() / 1e3, median() / 1e3, rows / (best() / 1e3), last.verdict(),
                    last.work().rowsFetched(), last.work().ranges(), peakHeapBytes / 1048576.0, cpu);
        }
    }

    public static void main(String[] args) throws Exception {
        long rows = Long.parseLong(arg(args, "--rows", "1000000"));
        int differences = Integer.parseInt(arg(args, "--differences", "100"));
        int runs = Integer.parseInt(arg(args, "--runs", "5"));
        int chunk = Integer.parseInt(arg(args, "--chunk", "20000"));
        List<String> cases = List.of(arg(args, "--cases", "equal,scattered,mariadb").split(","));
        Path out = Path.of(arg(args, "--out", "bench-results/verify.txt"));
        String run = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String sourceSchema = "vb_" + run + "_src";
        String copySchema = "vb_" + run + "_copy";
        String mariaDb = "vb_" + run;

        List<String> lines = new ArrayList<>();
        lines.add("# eventsync verify (TableDiff, checksums in the databases), " + Instant.now() + "; "
                + Runtime.getRuntime().availableProcessors() + " cores, max heap "
                + Runtime.getRuntime().maxMemory() / 1048576 + " MiB, chunk " + chunk + " rows, " + runs + " runs per case");
        lines.add("# load average at start: " + String.format(Locale.ROOT, "%.1f",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        TableDiff diff = TableDiff.builder().chunkSize(chunk).reportAtMost(5).build();
        TableProjection projection = TableProjection.of("accounts", "id", "owner", "balance", "opened", "active", "version");
        try (Connection admin = DriverManager.getConnection(PG, "postgres", "")) {
            try {
                exec(admin, "CREATE SCHEMA " + sourceSchema);
                exec(admin, "CREATE SCHEMA " + copySchema);
                long loadStart = System.nanoTime();
                createPg(admin, sourceSchema, rows);
                createPg(admin, copySchema, rows);
                lines.add(String.format(Locale.ROOT, "# loaded 2 x %,d rows into PostgreSQL in %.1f s", rows,
                        (System.nanoTime() - loadStart) / 1e9));
                try (Connection source = DriverManager.getConnection(PG + "?currentSchema=" + sourceSchema, "postgres", "");
                     Connection copy = DriverManager.getConnection(PG + "?currentSchema=" + copySchema, "postgres", "")) {
                    if (cases.contains("equal")) {
                        lines.add(measure("postgresql -> postgresql, equal", diff, source, copy, projection, runs, rows).line());
                    }
                    if (cases.contains("scattered")) {
                        scatter(copy, rows, differences);
                        Figures f = measure("postgresql -> postgresql, " + differences + " differ", diff, source, copy,
                                projection, runs, rows);
                        lines.add(f.line() + "  (" + f.last().differingKeys() + " keys found)");
                    }
                }
                if (cases.contains("mariadb")) {
                    try (Connection maria = DriverManager.getConnection(MARIADB, "root", "")) {
                        exec(maria, "CREATE DATABASE " + mariaDb);
                        try {
                            long loadStart2 = System.nanoTime();
                            createMariaDb(maria, mariaDb, rows);
                            lines.add(String.format(Locale.ROOT, "# loaded %,d rows into MariaDB in %.1f s", rows,
                                    (System.nanoTime() - loadStart2) / 1e9));
                            try (Connection source = DriverManager.getConnection(PG + "?currentSchema=" + sourceSchema,
                                    "postgres", "");
                                 Connection copy = DriverManager.getConnection(MARIADB + mariaDb, "root", "")) {
                                lines.add(measure("postgresql -> mariadb, equal", diff, source, copy, projection,
                                        Math.max(1, runs / 2), rows).line());
                            }
                        } finally {
                            exec(maria, "DROP DATABASE IF EXISTS " + mariaDb);
                        }
                    }
                }
            } finally {
                exec(admin, "DROP SCHEMA IF EXISTS " + sourceSchema + " CASCADE");
                exec(admin, "DROP SCHEMA IF EXISTS " + copySchema + " CASCADE");
            }
        }
        lines.add("# load average at end: " + String.format(Locale.ROOT, "%.1f",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        lines.add("# reladiff (README): 25M rows in < 10 s; the brief's goal here: 1M rows PostgreSQL -> PostgreSQL in <= 2 s");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.write(out, lines, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        lines.forEach(System.out::println);
        System.out.println("written to " + out.toAbsolutePath());
    }

    private static Figures measure(String name, TableDiff diff, Connection source, Connection copy,
                                   TableProjection projection, int runs, long rows) throws SQLException {
        diff.compare(name, source, projection, copy, projection); // warm-up: JIT, the databases' caches
        List<Long> millis = new ArrayList<>();
        DiffReport last = null;
        long peak = 0;
        int sourcePid = backendPid(source);
        int copyPid = backendPid(copy);
        long sourceTicks = 0;
        long copyTicks = 0;
        for (int i = 0; i < runs; i++) {
            long s0 = cpuTicks(sourcePid);
            long c0 = cpuTicks(copyPid);
            System.gc();
            List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP).toList();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
            long start = System.nanoTime();
            last = diff.compare(name, source, projection, copy, projection);
            millis.add((System.nanoTime() - start) / 1_000_000);
            peak = Math.max(peak, heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum());
            sourceTicks += cpuTicks(sourcePid) - s0;
            copyTicks += cpuTicks(copyPid) - c0;
        }
        // Linux counts process CPU in ticks of 1/100 s (USER_HZ).
        Figures f = new Figures(name, rows, millis, last, peak, sourcePid < 0 ? -1 : sourceTicks / 100.0 / runs,
                copyPid < 0 ? -1 : copyTicks / 100.0 / runs);
        System.out.println(f.line());
        return f;
    }

    /**
     * The PostgreSQL backend serving {@code c} when the server runs on this machine (its CPU time, read
     * from /proc, is what the diff costs the database whatever the load of the machine), else -1.
     */
    private static int backendPid(Connection c) {
        try (Statement st = c.createStatement(); var rs = st.executeQuery("SELECT pg_backend_pid()")) {
            // Parallel workers are processes of their own whose CPU /proc would not show here; on 2 cores
            // the two sides of the diff already use both, so the bench's sessions run without them.
            try (Statement off = c.createStatement()) {
                off.execute("SET max_parallel_workers_per_gather = 0");
            }
            rs.next();
            int pid = rs.getInt(1);
            return Files.exists(Path.of("/proc", String.valueOf(pid), "stat")) ? pid : -1;
        } catch (SQLException e) {
            return -1; // not PostgreSQL
        }
    }

    /** utime + stime of a process, in ticks; 0 when unknown. */
    private static long cpuTicks(int pid) {
        if (pid < 0) {
            return 0;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    private static void createPg(Connection c, String schema, long rows) throws SQLException {
        exec(c, "CREATE TABLE " + schema + ".accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100) NOT NULL,"
                + " balance NUMERIC(14, 2) NOT NULL, opened TIMESTAMPTZ NOT NULL, active BOOLEAN NOT NULL,"
                + " version BIGINT NOT NULL)");
        exec(c, "INSERT INTO " + schema + ".accounts SELECT i, 'owner-' || i, i * 1.25,"
                + " TIMESTAMPTZ '2026-01-01 00:00:00+00' + i * INTERVAL '1 second', i % 2 = 0, 1 + i % 5"
                + " FROM generate_series(1, " + rows + ") i");
        exec(c, "VACUUM ANALYZE " + schema + ".accounts");
    }

    private static void createMariaDb(Connection c, String db, long rows) throws SQLException {
        exec(c, "CREATE TABLE " + db + ".accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100) NOT NULL,"
                + " balance DECIMAL(14, 2) NOT NULL, opened DATETIME(6) NOT NULL, active BOOLEAN NOT NULL,"
                + " version BIGINT NOT NULL) DEFAULT CHARSET=utf8mb4");
        exec(c, "INSERT INTO " + db + ".accounts SELECT seq, CONCAT('owner-', seq), seq * 1.25,"
                + " TIMESTAMPADD(SECOND, seq, TIMESTAMP'2026-01-01 00:00:00'), seq % 2 = 0, 1 + seq % 5"
                + " FROM " + db + ".seq_1_to_" + rows);
        exec(c, "ANALYZE TABLE " + db + ".accounts");
    }

    /** A third of the differences missing in the copy, a third extra, a third with another value. */
    private static void scatter(Connection copy, long rows, int differences) throws SQLException {
        long stride = rows / Math.max(1, differences);
        for (int i = 0; i < differences; i++) {
            long id = 1 + i * stride + (i * 7919L) % Math.max(1, stride);
            switch (i % 3) {
                case 0 -> exec(copy, "DELETE FROM accounts WHERE id = " + id);
                case 1 -> exec(copy, "INSERT INTO accounts VALUES (" + (rows + 1 + i) + ", 'extra', 1, now(), true, 1)");
                default -> exec(copy, "UPDATE accounts SET balance = balance + 0.01 WHERE id = " + id);
            }
        }
        exec(copy, "VACUUM ANALYZE accounts");
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String arg(String[] args, String name, String fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
