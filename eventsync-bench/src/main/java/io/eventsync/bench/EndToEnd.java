package io.eventsync.bench;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.ApplyScope;
import io.eventsync.handler.Dispatcher;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * End to end, source commit to copy commit, on the embedded log: H2 (file) and PostgreSQL.
 *
 * <p>A writer pool commits business rows with their outbox rows; the relay moves them to the embedded
 * log (in the source database); a consumer (Dispatcher, 8 lanes, JdbcApplyScope, CopyTable) applies
 * them to a copy database with its own inbox and offsets. First the writers run unpaced (saturation:
 * events/s from the first source commit to the last copy commit), then paced at half that rate, where
 * freshness = copy commit time - source commit time is measured for every event (same JVM, same
 * monotonic clock) and reported as p50/p99.
 *
 * <p>Run: {@code mvn -B -q -o -pl eventsync-bench -am package -DskipTests && java -cp
 * eventsync-bench/target/benchmarks.jar io.eventsync.bench.EndToEnd [h2|postgres|all]} (system properties
 * {@code -Dwriters=8 -Devents=30000 -Dseconds=10 -Dpg.url=...}). Writes {@code bench-results/end-to-end.txt}.
 */
public final class EndToEnd {
    private static final String SOURCE = "accounts";
    private static final String TOPIC = "accounts";
    private static final String GROUP = "accounts-copy";
    private static final int WRITERS = Integer.getInteger("writers", 8);
    private static final int KEYS = 2_000;
    private static final int LANES = Integer.getInteger("lanes", 8);
    private static final int SATURATION_EVENTS = Integer.getInteger("events", 30_000);
    private static final int HALF_RATE_SECONDS = Integer.getInteger("seconds", 10);
    private static final String PG_URL = System.getProperty("pg.url", "jdbc:postgresql://127.0.0.1:5432/test");

    private final Descriptor accountType = accountDescriptor();
    /** Per event id: the source commit time, or (negated) the copy commit time if that came first. */
    private final ConcurrentHashMap<String, Long> pending = new ConcurrentHashMap<>();
    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong lastApplyNanos = new AtomicLong();
    private volatile long[] latencies = new long[0];
    private final AtomicLong latencyCount = new AtomicLong();
    private volatile boolean recordLatency;

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "all";
        List<String> lines = new ArrayList<>();
        lines.add("# eventsync end-to-end (source commit -> copy commit), embedded log, " + Instant.now());
        lines.add("# " + WRITERS + " writers, " + KEYS + " keys, consumer " + LANES + " lanes, one apply transaction per event;"
                + " saturation " + SATURATION_EVENTS + " events, half rate " + HALF_RATE_SECONDS + " s; "
                + Runtime.getRuntime().availableProcessors() + " cores");
        if (which.equals("all") || which.equals("h2")) {
            lines.add(new EndToEnd().run("h2+log", h2Pools()));
        }
        if (which.equals("all") || which.equals("postgres")) {
            lines.add(new EndToEnd().run("postgresql+log", pgPools()));
        }
        Path out = Path.of("bench-results", "end-to-end.txt");
        Files.createDirectories(out.getParent());
        Files.write(out, lines);
        lines.forEach(System.out::println);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    private record Pools(HikariDataSource source, HikariDataSource copy, String sourceSchema, String copySchema,
                         Runnable cleanup) {}

    private String run(String name, Pools pools) throws Exception {
        try {
            SchemaNames sourceNames = SchemaNames.of(pools.sourceSchema);
            SchemaNames copyNames = SchemaNames.of(pools.copySchema);
            EventsyncSchema.install(pools.source, sourceNames);
            EventsyncSchema.install(pools.copy, copyNames);
            try (Connection c = pools.source.getConnection(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE accounts (id VARCHAR(64) PRIMARY KEY, balance BIGINT, owner VARCHAR(200),"
                        + " note VARCHAR(200), version BIGINT NOT NULL)");
            }
            CopyTable copy = CopyTable.builder(accountType, "accounts_copy").schema(pools.copySchema)
                    .keyFromSubject("id").column("balance").column("owner").build();
            copy.createTable(pools.copy);

            EmbeddedLog log = EmbeddedLog.builder().dataSource(pools.source).names(sourceNames)
                    .offsets(Offsets.in(pools.copy, copyNames)).build();
            Relay relay = Relay.builder().dataSource(pools.source).names(sourceNames).source(SOURCE)
                    .publisher(log.publisher(TOPIC)).build().start();
            JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(pools.copy).schema(copyNames).build()).build();
            ApplyScope timed = invocation -> {
                Outcome outcome = scope.apply(invocation);
                copyCommitted(invocation.envelope().getId());
                return outcome;
            };
            Dispatcher dispatcher = Dispatcher.builder(GROUP)
                    .handlers(copy.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                    .types(TypeRegistry.builder().add(accountType).build())
                    .codec(EnvelopeCodec.defaults())
                    .validator(EnvelopeValidator.defaults())
                    .applyScope(timed)
                    .deadLetters(JdbcDeadLetters.create(pools.copy, copyNames))
                    .lanes(LANES)
                    .build();
            Outbox outbox = Outbox.of(SOURCE, sourceNames);
            long[] versions = new long[KEYS];

            // The consumer alone: a backlog already in the log, drained by the consumer (8 lanes).
            int backlog = SATURATION_EVENTS / 2;
            write(pools.source, outbox, versions, backlog, 0);
            awaitOutboxEmpty(pools.source);
            long consumerStart = System.nanoTime();
            long consumerCpu = cpuNanos();
            java.util.Map<String, Long> consumerThreads = threadCpu();
            Subscription subscription = log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), dispatcher);
            awaitApplied(backlog);
            double consumerRate = backlog / ((lastApplyNanos.get() - consumerStart) / 1e9);
            double consumerCpuPerEvent = (cpuNanos() - consumerCpu) / 1e3 / backlog;
            String consumerBreakdown = perEvent(consumerThreads, threadCpu(), backlog, 0);

            long start = System.nanoTime();
            long saturationCpu = cpuNanos();
            java.util.Map<String, Long> saturationThreads = threadCpu();
            writerCpu.set(0);
            long base = applied.get();
            long writeNanos = write(pools.source, outbox, versions, SATURATION_EVENTS, 0);
            awaitApplied(base + SATURATION_EVENTS);
            double cpuPerEvent = (cpuNanos() - saturationCpu) / 1e3 / SATURATION_EVENTS;
            String saturationBreakdown = perEvent(saturationThreads, threadCpu(), SATURATION_EVENTS, writerCpu.get());
            double seconds = (lastApplyNanos.get() - start) / 1e9;
            double rate = SATURATION_EVENTS / seconds;
            double writerRate = SATURATION_EVENTS / (writeNanos / 1e9);

            double half = rate / 2;
            int halfEvents = (int) (half * HALF_RATE_SECONDS);
            latencies = new long[halfEvents + 16];
            latencyCount.set(0);
            recordLatency = true;
            base = applied.get();
            write(pools.source, outbox, versions, halfEvents, (long) (1e9 * WRITERS / half));
            awaitApplied(base + halfEvents);
            recordLatency = false;
            long[] sample = Arrays.copyOf(latencies, (int) Math.min(latencyCount.get(), latencies.length));
            Arrays.sort(sample);

            subscription.close();
            dispatcher.close();
            relay.close();
            log.close();
            scope.close();
            return String.format(Locale.ROOT, "%-15s saturation %7.0f events/s end to end (writers committed %7.0f/s;"
                            + " consumer alone drained a backlog at %7.0f/s); JVM CPU per event: end to end %5.1f us,"
                            + " consumer alone %5.1f us; at half rate (%6.0f events/s, %d events):"
                            + " freshness p50 %6.2f ms, p99 %7.2f ms, max %7.2f ms",
                    name, rate, writerRate, consumerRate, cpuPerEvent, consumerCpuPerEvent, half, sample.length, pct(sample, 0.50), pct(sample, 0.99),
                    sample.length == 0 ? 0 : sample[sample.length - 1] / 1e6)
                    + String.format(Locale.ROOT, "%n  thread CPU us/event, end to end: %s%n  thread CPU us/event, consumer alone: %s",
                    saturationBreakdown, consumerBreakdown);
        } finally {
            pools.source.close();
            pools.copy.close();
            pools.cleanup.run();
        }
    }

    /** CPU time of this JVM (all threads, GC and H2's background writer included): immune to other load. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private final AtomicLong writerCpu = new AtomicLong();

    /** CPU nanos of each live thread, by name with trailing digits dropped (the 8 lanes are one entry). */
    private static java.util.Map<String, Long> threadCpu() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info != null) {
                long cpu = mx.getThreadCpuTime(info.getThreadId());
                if (cpu > 0) {
                    byName.merge(info.getThreadName().replaceAll("[0-9]+$", "N"), cpu, Long::sum);
                }
            }
        }
        return byName;
    }

    /** Per-thread-group CPU microseconds per event between two snapshots, biggest first. */
    private static String perEvent(java.util.Map<String, Long> before, java.util.Map<String, Long> after, long events,
                                   long writerNanos) {
        java.util.Map<String, Long> delta = new java.util.HashMap<>();
        after.forEach((name, cpu) -> delta.put(name, cpu - before.getOrDefault(name, 0L)));
        if (writerNanos > 0) {
            delta.put("bench-writers", writerNanos);
        }
        StringBuilder sb = new StringBuilder();
        delta.entrySet().stream().filter(e -> e.getValue() / 1e3 / events >= 0.5)
                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> sb.append(String.format(Locale.ROOT, "%s %.1f; ", e.getKey(), e.getValue() / 1e3 / events)));
        return sb.toString();
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    private void copyCommitted(String eventId) {
        long now = System.nanoTime();
        lastApplyNanos.accumulateAndGet(now, Math::max);
        applied.incrementAndGet();
        Long committed = pending.remove(eventId);
        if (committed != null) {
            latency(now - committed);
        } else if (pending.putIfAbsent(eventId, -now) != null) {
            Long c = pending.remove(eventId);
            if (c != null) {
                latency(now - c);
            }
        }
    }

    private void sourceCommitted(String eventId, long now) {
        Long applyTime = pending.putIfAbsent(eventId, now);
        if (applyTime != null) {
            // applied before the writer got here: the commit was at most now
            pending.remove(eventId);
            latency(Math.max(0, -applyTime - now));
        }
    }

    private void latency(long nanos) {
        if (!recordLatency) {
            return;
        }
        long i = latencyCount.getAndIncrement();
        long[] l = latencies;
        if (i < l.length) {
            l[(int) i] = nanos;
        }
    }

    private static void awaitOutboxEmpty(HikariDataSource source) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            try (Connection c = source.getConnection(); Statement st = c.createStatement();
                 var rs = st.executeQuery("SELECT COUNT(*) FROM \"eventsync_outbox\"")) {
                rs.next();
                if (rs.getLong(1) == 0) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the relay did not drain the outbox in 10 minutes");
            }
            Thread.sleep(5);
        }
    }

    private void awaitApplied(long count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (applied.get() < count) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + applied.get() + " of " + count + " events applied in 10 minutes");
            }
            Thread.sleep(1); // a benchmark driver; the measured path itself never sleeps
        }
    }

    /** Writes {@code events} across the writer threads; paced when {@code nanosPerEventPerWriter > 0}. Returns elapsed nanos. */
    private long write(HikariDataSource db, Outbox outbox, long[] versions, int events, long nanosPerEventPerWriter)
            throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        long start = System.nanoTime();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            int share = events / WRITERS + (w < events % WRITERS ? 1 : 0);
            Thread t = new Thread(() -> writeShare(db, outbox, versions, writer, share, nanosPerEventPerWriter),
                    "bench-writer-" + w);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        return System.nanoTime() - start;
    }

    private void writeShare(HikariDataSource db, Outbox outbox, long[] versions, int writer, int events, long pace) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long next = System.nanoTime();
        try (Connection c = db.getConnection();
             PreparedStatement update = c.prepareStatement("UPDATE accounts SET balance = ?, owner = ?, version = ? WHERE id = ?");
             PreparedStatement insert = c.prepareStatement("INSERT INTO accounts (id, balance, owner, note, version) VALUES (?, ?, ?, ?, ?)")) {
            c.setAutoCommit(false);
            for (int i = 0; i < events; i++) {
                if (pace > 0) {
                    next += pace;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                // Each writer owns a disjoint slice of keys, so versions need no lock across writers.
                int k = writer + WRITERS * random.nextInt(KEYS / WRITERS);
                String id = "acc-" + k;
                long version = ++versions[k];
                long balance = random.nextLong(1_000_000);
                DynamicMessage payload = DynamicMessage.newBuilder(accountType)
                        .setField(accountType.findFieldByName("id"), id)
                        .setField(accountType.findFieldByName("balance"), balance)
                        .setField(accountType.findFieldByName("owner"), "owner-" + (balance % 1000))
                        .setField(accountType.findFieldByName("note"), "kept at the source only")
                        .build();
                if (version == 1) {
                    insert.setString(1, id);
                    insert.setLong(2, balance);
                    insert.setString(3, "owner-" + (balance % 1000));
                    insert.setString(4, "kept at the source only");
                    insert.setLong(5, version);
                    insert.executeUpdate();
                } else {
                    update.setLong(1, balance);
                    update.setString(2, "owner-" + (balance % 1000));
                    update.setLong(3, version);
                    update.setString(4, id);
                    update.executeUpdate();
                }
                var event = Events.create(SOURCE, id, version, payload);
                outbox.append(c, event);
                c.commit();
                sourceCommitted(event.getId(), System.nanoTime());
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writer " + writer + " failed: " + e, e);
        } finally {
            writerCpu.addAndGet(java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
        }
    }

    private static Descriptor accountDescriptor() {
        FileDescriptorProto file = FileDescriptorProto.newBuilder()
                .setName("bench/account.proto").setPackage("eventsync.bench").setSyntax("proto3")
                .addMessageType(DescriptorProto.newBuilder().setName("Account")
                        .addField(field("id", 1, FieldDescriptorProto.Type.TYPE_STRING))
                        .addField(field("balance", 2, FieldDescriptorProto.Type.TYPE_INT64))
                        .addField(field("owner", 3, FieldDescriptorProto.Type.TYPE_STRING))
                        .addField(field("note", 4, FieldDescriptorProto.Type.TYPE_STRING)))
                .build();
        try {
            return FileDescriptor.buildFrom(file, new FileDescriptor[0]).findMessageTypeByName("Account");
        } catch (com.google.protobuf.Descriptors.DescriptorValidationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static FieldDescriptorProto field(String name, int number, FieldDescriptorProto.Type type) {
        return FieldDescriptorProto.newBuilder().setName(name).setNumber(number).setType(type)
                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).build();
    }

    private static HikariDataSource pool(String url, String user, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword("");
        config.setMaximumPoolSize(size);
        return new HikariDataSource(config);
    }

    private static Pools h2Pools() throws IOException {
        Path dir = Files.createTempDirectory("eventsync-bench-h2-");
        HikariDataSource source = pool("jdbc:h2:file:" + dir.resolve("source").toAbsolutePath(), "sa", WRITERS + 4);
        HikariDataSource copy = pool("jdbc:h2:file:" + dir.resolve("copy").toAbsolutePath(), "sa", 12);
        return new Pools(source, copy, "PUBLIC", "PUBLIC", () -> deleteTree(dir));
    }

    private static Pools pgPools() throws SQLException {
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String src = "bench_src_" + suffix;
        String cp = "bench_copy_" + suffix;
        admin("CREATE SCHEMA " + src);
        admin("CREATE SCHEMA " + cp);
        HikariDataSource source = pool(PG_URL + "?currentSchema=" + src, "postgres", WRITERS + 4);
        HikariDataSource copy = pool(PG_URL + "?currentSchema=" + cp, "postgres", 12);
        return new Pools(source, copy, src, cp, () -> {
            try {
                admin("DROP SCHEMA " + src + " CASCADE");
                admin("DROP SCHEMA " + cp + " CASCADE");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(PG_URL, "postgres", ""); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static void deleteTree(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
