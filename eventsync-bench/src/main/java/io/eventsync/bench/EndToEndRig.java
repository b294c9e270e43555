package io.eventsync.bench;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.Invocation;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.jdbc.WalOutbox;
import io.eventsync.jdbc.WalRelay;
import io.eventsync.jdbc.WalSlot;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.direct.DirectPublisher;
import io.eventsync.v1.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
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
 * The end-to-end workload shared by {@link EndToEnd} and {@link TransportBench}: source commit to copy
 * commit through any {@link Transport}.
 *
 * <p>A writer pool commits business rows ({@code accounts}) with their outbox rows; the relay publishes
 * them on the transport; a consumer (Dispatcher, 8 lanes, JdbcApplyScope, CopyTable) applies them to a
 * copy database with its own inbox and offsets. Three phases: a backlog written first and drained by
 * the consumer alone (also the warm-up: JIT, topic creation, consumer-group join); saturation (writers
 * unpaced, events/s from the first source commit to the last copy commit); half that rate, paced, where
 * freshness = copy commit time - source commit time is measured for every event (same JVM, same
 * monotonic clock).
 *
 * <p>The source side is the query relay over the outbox table ({@link Relaying#QUERY}, the default) or
 * the WAL relay over {@link WalOutbox} logical messages ({@link Relaying#WAL}, PostgreSQL with
 * {@code wal_level=logical}). {@link #phases} runs the same three phases for any {@link Pipeline}, so
 * pipelines that are not eventsync's (Debezium's embedded engine, a dual write) meet the same writers.
 */
final class EndToEndRig {
    static final String SOURCE = "accounts";
    static final int WRITERS = Integer.getInteger("writers", 8);
    static final int KEYS = 2_000;
    static final int LANES = Integer.getInteger("lanes", 8);
    /**
     * H2 keeps 8 parsed statements per session by default; a batch's apply and the relay use more than
     * 8 distinct ones in turn, so each would be parsed again every time ({@code -Dh2.options=} for H2's default).
     */
    static final String H2_OPTIONS = System.getProperty("h2.options", ";QUERY_CACHE_SIZE=64");
    /** Events per apply transaction at most ({@code -DmaxBatch=1}: one transaction per event, as before batching). */
    static final int MAX_BATCH = Integer.getInteger("maxBatch", Dispatcher.DEFAULT_MAX_BATCH);
    static final int APPLY_CONCURRENCY = Integer.getInteger("applyConcurrency", Dispatcher.defaultApplyConcurrency());
    static final String PG_URL = System.getProperty("pg.url", "jdbc:postgresql://127.0.0.1:5432/test");

    /** Source and copy pools, their schemas, and what to drop afterwards. */
    record Pools(HikariDataSource source, HikariDataSource copy, String sourceSchema, String copySchema,
                 Runnable cleanup) {}

    /** The transport under test, opened once the schemas exist; {@code cleanup} runs before it is closed. */
    record Opened(Transport transport, Runnable cleanup) {}

    @FunctionalInterface
    interface TransportFactory {
        Opened open(Pools pools, SchemaNames sourceNames, SchemaNames copyNames) throws Exception;
    }

    /**
     * Figures of one run; rates in events/s, freshness in ms. {@code consumerRate} counts from the consumer's
     * start (its connect and startup included), {@code drainFromFirstApply} from its first copy commit.
     */
    record Result(double rate, double writerRate, double consumerRate, double halfRate, int halfEvents,
                  double p50, double p99, double max, double drainFromFirstApply) {}

    /**
     * How the writers' events leave the source database: the query relay, the WAL relay into the transport,
     * or the WAL relay straight into the consumer's dispatcher ({@code DirectPublisher}, no transport).
     */
    enum Relaying { QUERY, WAL, DIRECT }

    /** What a writer adds to its business transaction for one event; {@code account} is the event's payload. */
    @FunctionalInterface
    interface EventWrite {
        void append(Connection c, Envelope event, DynamicMessage account) throws SQLException;

        /** After the writer's commit (a dual write writes the copy here); default nothing. */
        default void committed(Envelope event, DynamicMessage account) throws SQLException {
        }
    }

    /**
     * A pipeline under the workload: what the writers write, and the consumer that applies it and calls
     * {@link #copyCommitted} for each event after its copy commit.
     */
    interface Pipeline {
        EventWrite write();

        /** Waits until the {@code written} events so far have left the source side (the backlog is published). */
        void awaitPublished(long written) throws Exception;

        /** Starts applying; the handle stops it. */
        AutoCloseable startConsumer() throws Exception;
    }

    private final Relaying relaying;
    private final Descriptor accountType = accountDescriptor();
    /** Per event id: the source commit time, or (negated) the copy commit time if that came first. */
    private final ConcurrentHashMap<String, Long> pending = new ConcurrentHashMap<>();
    private final AtomicLong applied = new AtomicLong();
    /** Batches the consumer committed (and the events in them) since the phase began. */
    private final AtomicLong committedBatches = new AtomicLong();
    private final AtomicLong eventsInBatches = new AtomicLong();
    private final AtomicLong lastApplyNanos = new AtomicLong();
    private final AtomicLong firstApplyNanos = new AtomicLong(Long.MAX_VALUE);
    private volatile long[] latencies = new long[0];
    private final AtomicLong latencyCount = new AtomicLong();
    private volatile boolean recordLatency;

    EndToEndRig() {
        this(Relaying.QUERY);
    }

    EndToEndRig(Relaying relaying) {
        this.relaying = relaying;
    }

    Descriptor accountType() {
        return accountType;
    }

    /**
     * Runs the three phases; closes the pools and runs their cleanup at the end.
     *
     * @param topic unique per run (brokers keep topics, streams and queues across runs)
     */
    Result run(Pools pools, TransportFactory factory, String topic, int backlog, int saturationEvents,
               int halfRateSeconds) throws Exception {
        String group = topic + "_copy";
        try {
            SchemaNames sourceNames = SchemaNames.of(pools.sourceSchema);
            SchemaNames copyNames = SchemaNames.of(pools.copySchema);
            EventsyncSchema.install(pools.source, sourceNames);
            EventsyncSchema.install(pools.copy, copyNames);
            createAccounts(pools.source);
            CopyTable copy = CopyTable.builder(accountType, "accounts_copy").schema(pools.copySchema)
                    .keyFromSubject("id").column("balance").column("owner").build();
            copy.createTable(pools.copy);

            // DIRECT has no transport: the relay is the consumer's source, started with it.
            Opened opened = relaying == Relaying.DIRECT ? new Opened(null, () -> { })
                    : factory.open(pools, sourceNames, copyNames);
            try {
                return measure(pools, sourceNames, copyNames, copy, opened.transport(), topic, group, backlog,
                        saturationEvents, halfRateSeconds);
            } finally {
                try {
                    opened.cleanup().run();
                } finally {
                    if (opened.transport() != null) {
                        opened.transport().close();
                    }
                }
            }
        } finally {
            pools.source.close();
            pools.copy.close();
            pools.cleanup.run();
        }
    }

    private Result measure(Pools pools, SchemaNames sourceNames, SchemaNames copyNames, CopyTable copy,
                           Transport transport, String topic, String group, int backlog, int saturationEvents,
                           int halfRateSeconds) throws Exception {
        Outbox outbox = Outbox.of(SOURCE, sourceNames);
        WalOutbox walOutbox = WalOutbox.of(SOURCE, sourceNames);
        String slot = "es_bench_" + suffix();
        AutoCloseable relay;
        if (relaying == Relaying.WAL) {
            WalSlot.create(pools.source, sourceNames, slot, slot);
            relay = WalRelay.builder().dataSource(pools.source).names(sourceNames).source(SOURCE).slot(slot)
                    .publication(slot).publisher(transport.publisher(topic)).build().start();
        } else if (relaying == Relaying.DIRECT) {
            WalSlot.create(pools.source, sourceNames, slot, slot);
            relay = () -> { }; // started with the consumer, which it feeds
        } else {
            relay = Relay.builder().dataSource(pools.source).names(sourceNames).source(SOURCE)
                    .publisher(transport.publisher(topic)).build().start();
        }
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(pools.copy, copyNames);
        JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(pools.copy).schema(copyNames).build())
                .deadLetters(deadLetters).build();
        ApplyScope timed = new ApplyScope() { // notes when each event's copy transaction committed
            @Override
            public Outcome apply(Invocation invocation) throws Exception {
                Outcome outcome = scope.apply(invocation);
                copyCommitted(invocation.envelope().getId());
                return outcome;
            }

            @Override
            public boolean batches() {
                return scope.batches();
            }

            @Override
            public List<Outcome> applyAll(List<? extends Invocation> invocations) throws Exception {
                List<Outcome> outcomes = scope.applyAll(invocations);
                committedBatches.incrementAndGet();
                eventsInBatches.addAndGet(invocations.size());
                invocations.forEach(invocation -> copyCommitted(invocation.envelope().getId()));
                return outcomes;
            }

            @Override
            public boolean refusesParkedKeys(DeadLetterStore store) {
                return scope.refusesParkedKeys(store);
            }
        };
        Dispatcher dispatcher = Dispatcher.builder(group)
                .handlers(copy.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                .types(TypeRegistry.builder().add(accountType).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(timed)
                .deadLetters(deadLetters)
                .lanes(LANES)
                .maxBatch(MAX_BATCH)
                .applyConcurrency(APPLY_CONCURRENCY)
                .build();
        Pipeline pipeline = new Pipeline() {
            @Override
            public EventWrite write() {
                return relaying != Relaying.QUERY ? (c, event, account) -> walOutbox.append(c, event)
                        : (c, event, account) -> outbox.append(c, event);
            }

            @Override
            public void awaitPublished(long written) throws Exception {
                if (relaying == Relaying.DIRECT) {
                    return; // the backlog waits in the WAL, as in the Debezium case while its engine is down
                }
                if (relaying == Relaying.WAL) {
                    awaitLogged(pools.source, written);
                } else {
                    awaitOutboxEmpty(pools.source);
                }
            }

            @Override
            public AutoCloseable startConsumer() {
                if (relaying == Relaying.DIRECT) {
                    // WAL relay -> DirectPublisher -> the same dispatcher: the slot advances past copy commits only.
                    DirectPublisher publisher = DirectPublisher.to(topic, dispatcher);
                    WalRelay direct = WalRelay.builder().dataSource(pools.source).names(sourceNames).source(SOURCE)
                            .slot(slot).publication(slot).publisher(publisher).build().start();
                    return () -> {
                        direct.close();
                        publisher.close();
                    };
                }
                Subscription subscription = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher);
                return subscription::close;
            }
        };
        try {
            return phases(pools.source, pipeline, backlog, saturationEvents, halfRateSeconds);
        } finally {
            dispatcher.close();
            relay.close();
            scope.close();
            if (relaying != Relaying.QUERY) {
                // A slot left behind keeps WAL forever.
                WalSlot.drop(pools.source, slot, Duration.ofSeconds(30));
                WalSlot.dropPublication(pools.source, slot);
            }
        }
    }

    /**
     * The three phases: a backlog written, published, then drained by the consumer alone (skipped when
     * {@code backlog} is 0; its rate is NaN when the pipeline applies synchronously); saturation; half rate.
     */
    Result phases(HikariDataSource source, Pipeline pipeline, int backlog, int saturationEvents, int halfRateSeconds)
            throws Exception {
        EventWrite write = pipeline.write();
        long[] versions = new long[KEYS];
        write(source, write, versions, backlog, 0);
        pipeline.awaitPublished(backlog);
        long consumerStart = System.nanoTime();
        AutoCloseable consumer = pipeline.startConsumer();
        try {
            awaitApplied(backlog);
            boolean drained = backlog > 1 && lastApplyNanos.get() > consumerStart;
            double consumerRate = drained ? backlog / ((lastApplyNanos.get() - consumerStart) / 1e9) : Double.NaN;
            if (committedBatches.get() > 0) {
                System.out.printf(Locale.ROOT, "backlog of %d drained with %d batches (%d events in them, %.1f per batch)%n",
                        backlog, committedBatches.get(), eventsInBatches.get(),
                        eventsInBatches.get() / (double) committedBatches.get());
            }
            double fromFirst = drained ? (backlog - 1) / ((lastApplyNanos.get() - firstApplyNanos.get()) / 1e9) : Double.NaN;

            long start = System.nanoTime();
            long base = applied.get();
            long writeNanos = write(source, write, versions, saturationEvents, 0);
            awaitApplied(base + saturationEvents);
            double rate = saturationEvents / ((lastApplyNanos.get() - start) / 1e9);
            double writerRate = saturationEvents / (writeNanos / 1e9);

            double half = rate / 2;
            int halfEvents = (int) (half * halfRateSeconds);
            latencies = new long[halfEvents + 16];
            latencyCount.set(0);
            recordLatency = true;
            base = applied.get();
            write(source, write, versions, halfEvents, (long) (1e9 * WRITERS / half));
            awaitApplied(base + halfEvents);
            recordLatency = false;
            long[] sample = Arrays.copyOf(latencies, (int) Math.min(latencyCount.get(), latencies.length));
            Arrays.sort(sample);
            return new Result(rate, writerRate, consumerRate, half, sample.length, pct(sample, 0.50),
                    pct(sample, 0.99), sample.length == 0 ? 0 : sample[sample.length - 1] / 1e6, fromFirst);
        } finally {
            consumer.close();
        }
    }

    /** The writers' business table in the source schema. */
    static void createAccounts(HikariDataSource source) throws SQLException {
        try (Connection c = source.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (id VARCHAR(64) PRIMARY KEY, balance BIGINT, owner VARCHAR(200),"
                    + " note VARCHAR(200), version BIGINT NOT NULL)");
        }
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    /** A consumer reports each event here right after the copy transaction that applied it committed. */
    void copyCommitted(String eventId) {
        long now = System.nanoTime();
        lastApplyNanos.accumulateAndGet(now, Math::max);
        firstApplyNanos.accumulateAndGet(now, Math::min);
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

    /** The WAL relay has appended {@code count} events to the embedded log (the log keeps them; the test schema is dropped). */
    private static void awaitLogged(HikariDataSource source, long count) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (true) {
            try (Connection c = source.getConnection(); Statement st = c.createStatement();
                 // the relay's freshness heartbeats share the log (key eventsync.heartbeat:<source>); not events
                 var rs = st.executeQuery("SELECT COUNT(*) FROM \"eventsync_log\""
                         + " WHERE event_key NOT LIKE 'eventsync.heartbeat:%'")) {
                rs.next();
                if (rs.getLong(1) >= count) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the WAL relay did not publish " + count + " events in 10 minutes");
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
    private long write(HikariDataSource db, EventWrite outbox, long[] versions, int events, long nanosPerEventPerWriter)
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

    private void writeShare(HikariDataSource db, EventWrite outbox, long[] versions, int writer, int events, long pace) {
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
                outbox.append(c, event, payload);
                c.commit();
                sourceCommitted(event.getId(), System.nanoTime());
                outbox.committed(event, payload);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writer " + writer + " failed: " + e, e);
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

    /** A short random suffix for schema, topic, stream and queue names. */
    static String suffix() {
        return UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    private static HikariDataSource pool(String url, String user, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword("");
        config.setMaximumPoolSize(size);
        return new HikariDataSource(config);
    }

    static Pools h2Pools() throws IOException {
        Path dir = Files.createTempDirectory("eventsync-bench-h2-");
        HikariDataSource source = pool("jdbc:h2:file:" + dir.resolve("source").toAbsolutePath() + H2_OPTIONS, "sa", WRITERS + 4);
        HikariDataSource copy = pool("jdbc:h2:file:" + dir.resolve("copy").toAbsolutePath() + H2_OPTIONS, "sa", 12);
        return new Pools(source, copy, "PUBLIC", "PUBLIC", () -> deleteTree(dir));
    }

    /** Two fresh PostgreSQL schemas, dropped by the cleanup. */
    static Pools pgPools() throws SQLException {
        String suffix = suffix();
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
