package io.eventsync.cli.demo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.demo.proto.OrderCancelled;
import io.eventsync.cli.demo.proto.OrderPaid;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.demo.proto.OrderShipped;
import io.eventsync.cli.internal.Progress;
import io.eventsync.cli.pipeline.Transports;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Transport;
import io.eventsync.verify.DiffReport;
import io.eventsync.verify.TableDiff;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded demo: three services in one JVM, each with its own H2 file database. {@code orders}
 * writes orders and their events in one transaction; a relay moves the events to the transport;
 * {@code billing} and {@code shipping} apply them to their copies. At the end every copy is compared
 * with the source, row for row.
 */
public final class Demo {
    /**
     * Drops what demo runs left on a database server ({@code --db}): every schema (PostgreSQL) or database
     * (MariaDB) named {@code esdemo_*}. Returns their names.
     */
    public static java.util.List<String> clean(Infrastructure infra) throws java.sql.SQLException {
        if (infra.db() == null) {
            throw new io.eventsync.ConfigException("--clean needs --db postgres|mariadb (the H2 demo's files are in"
                    + " its --dir: delete the directory)");
        }
        return DemoDatabases.dropAll(infra);
    }

    private static final Logger log = LoggerFactory.getLogger(Demo.class);
    static final String TOPIC = "shop.orders";
    static final Duration HANDLER_TIMEOUT = Duration.ofSeconds(1);
    static final Duration CANCELLATION_GRACE = Duration.ofMillis(250);

    private final DemoSettings settings;
    private DemoDatabases databases;
    private final ReentrantLock progressLock = new ReentrantLock();
    private final Condition progressed = progressLock.newCondition();

    public Demo(DemoSettings settings) {
        this.settings = settings;
    }

    /** Runs the demo to the end and returns its report. */
    public DemoReport run() throws Exception {
        Files.createDirectories(settings.dir());
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            return run(resources);
        } finally {
            closeAll(resources);
        }
    }

    private DemoReport run(List<AutoCloseable> resources) throws Exception {
        long started = System.nanoTime();
        Infrastructure infra = settings.infrastructure();
        String run = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss"))
                + Integer.toHexString(new java.util.Random().nextInt(0x1000));
        databases = new DemoDatabases(settings.dir(), infra, run);
        HikariDataSource orders = databases.open("orders", 8);
        HikariDataSource billing = databases.open("billing", 12);
        HikariDataSource shipping = databases.open("shipping", 12);
        resources.add(orders);
        resources.add(billing);
        resources.add(shipping);
        install(orders, DemoTables.ORDERS);
        install(billing, DemoTables.BILLING);
        install(shipping, DemoTables.SHIPPING);

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Transport base;
        CopyService.Subscriber subscriber;
        String topic = TOPIC;
        String suffix = "";
        if (infra.broker() == null) {
            // The embedded log lives in the source's database; each copy keeps its offsets in its own.
            EmbeddedLog log = EmbeddedLog.builder().dataSource(orders).build();
            base = log;
            subscriber = (spec, handler, copyDb) -> log.subscribe(spec, handler, Offsets.in(copyDb));
        } else {
            // A topic and groups of this run only, so a broker's earlier demo data cannot interfere.
            suffix = "-" + run;
            topic = TOPIC + "." + run;
            base = Transports.open(infra.broker(), infra.serversOrDefault(), null, "eventsync-demo", meters);
            Transport opened = base;
            subscriber = (spec, handler, copyDb) -> opened.subscribe(spec, handler);
        }
        DuplicatingTransport transport = new DuplicatingTransport(base, settings.faults().duplicate());
        resources.add(0, transport);

        Outbox outbox = Outbox.of(OrdersSource.SOURCE);
        OrdersSource source = new OrdersSource(orders, outbox::append);
        Publisher publisher = transport.publisher(topic);
        resources.add(0, publisher);
        Relay relay = Relay.builder().dataSource(orders).source(OrdersSource.SOURCE).publisher(publisher)
                .meterRegistry(meters).build().start();
        resources.add(0, relay);

        TypeRegistry types = TypeRegistry.builder()
                .add(OrderPlaced.getDefaultInstance()).add(OrderPaid.getDefaultInstance())
                .add(OrderShipped.getDefaultInstance()).add(OrderCancelled.getDefaultInstance())
                .build();
        Faults faults = new Faults(settings.faults(), HANDLER_TIMEOUT, CANCELLATION_GRACE);
        HandlerOptions options = HandlerOptions.custom()
                .timeout(HANDLER_TIMEOUT)
                .cancellationGrace(CANCELLATION_GRACE)
                .retryPolicy(RetryPolicy.custom().maxAttempts(8).initialBackoff(Duration.ofMillis(5))
                        .maxBackoff(Duration.ofMillis(200)).build())
                .build();
        CopyService billingCopy = new CopyService("billing", "billing" + suffix, billing,
                CopyHandlers.billing(options, faults), types, subscriber, topic, meters, source::commitNanos, this::signal);
        CopyService shippingCopy = new CopyService("shipping", "shipping" + suffix, shipping,
                CopyHandlers.shipping(options, faults), types, subscriber, topic, meters, source::commitNanos, this::signal);
        List<CopyService> copies = List.of(billingCopy, shippingCopy);
        resources.add(0, billingCopy);
        resources.add(0, shippingCopy);
        copies.forEach(CopyService::start);

        ExecutorService chaos = Executors.newSingleThreadExecutor(r -> new Thread(r, "eventsync-demo-restarts"));
        resources.add(0, chaos::shutdownNow);
        SplittableRandom restartRandom = new SplittableRandom(settings.seed());
        Writers writers = new Writers(settings, source, () -> {
            if (settings.faults().restart() > 0) {
                double roll;
                synchronized (restartRandom) {
                    roll = restartRandom.nextDouble();
                }
                if (roll < settings.faults().restart()) {
                    CopyService victim = copies.get((int) (roll * 1e9) % copies.size());
                    chaos.execute(victim::restart);
                }
            }
        });

        try (Progress progress = Progress.onTerminal(() -> progressLine(writers, copies, started))) {
            writers.run();
            chaos.shutdown();
            chaos.awaitTermination(30, TimeUnit.SECONDS);
            awaitCaughtUp(writers, copies);
        }
        long endToEndNanos = System.nanoTime() - started;
        List<DiffReport> diffs = new ArrayList<>();
        try (Connection src = orders.getConnection(); Connection b = billing.getConnection();
             Connection s = shipping.getConnection()) {
            TableDiff diff = TableDiff.reportingAtMost(10);
            diffs.add(diff.compare("orders -> billing", src, DemoTables.BILLING_SOURCE, b, DemoTables.BILLING_COPY));
            diffs.add(diff.compare("orders -> shipping", src, DemoTables.SHIPPING_SOURCE, s, DemoTables.SHIPPING_COPY));
        }
        if (infra.broker() == null) {
            // The audit copy's database with eventsync's tables, so `status` answers before the first `run`.
            try (HikariDataSource audit = databases.open("audit", 1)) {
                EventsyncSchema.install(audit);
            }
            PipelineExample.write(settings.dir(), databases, infra);
        }
        return DemoReport.build(settings, transport.name(), databases.description(), writers, copies, diffs, faults, transport,
                meters, endToEndNanos, this::url);
    }

    private void awaitCaughtUp(Writers writers, List<CopyService> copies) throws InterruptedException {
        long deadline = System.nanoTime() + settings.catchUp().toNanos();
        long expectedValid = writers.written.get();
        int expectedInvalid = writers.invalidEventIds.size();
        log.info("writers done: {} valid and {} invalid events; waiting for the copies", expectedValid, expectedInvalid);
        while (true) {
            boolean done = true;
            for (CopyService copy : copies) {
                if (copy.applied() < expectedValid || (expectedInvalid > 0 && !copy.deadLetters().stream()
                        .map(DeadLetter::eventId).collect(Collectors.toSet()).containsAll(writers.invalidEventIds))) {
                    done = false;
                    break;
                }
            }
            if (done) {
                return;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                log.warn("copies did not catch up within {}; reporting what they have", settings.catchUp());
                return;
            }
            progressLock.lock();
            try {
                // Woken by every apply; the bounded wait also covers dead letters, which do not signal.
                progressed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            } finally {
                progressLock.unlock();
            }
        }
    }

    private void signal() {
        if (progressLock.tryLock()) {
            try {
                progressed.signalAll();
            } finally {
                progressLock.unlock();
            }
        }
    }

    private static String progressLine(Writers writers, List<CopyService> copies, long started) {
        long written = writers.written.get();
        long applied = Long.MAX_VALUE;
        for (CopyService copy : copies) {
            applied = Math.min(applied, copy.applied());
        }
        double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
        return String.format("%s written %,d  applied %,d  %,.0f ev/s  lag %,d",
                Progress.bar(written == 0 ? 0 : (double) applied / written, 24), written, applied,
                applied / seconds, Math.max(0, written - applied));
    }

    /** The JDBC URL a newcomer can open once the demo has ended. */
    String url(String database) {
        return databases.url(database);
    }

    private static void install(DataSource dataSource, String businessTable) throws SQLException {
        EventsyncSchema.install(dataSource);
        try (Connection c = dataSource.getConnection()) {
            DemoTables.create(c, businessTable);
        }
    }

    private static void closeAll(List<AutoCloseable> resources) {
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", resource, e.toString());
            }
        }
    }

    static Path defaultDir() {
        String stamp = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        return Path.of("eventsync-data", "demo-" + stamp);
    }
}
