package io.eventsync.jdbc;

import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;

/**
 * The transport contract with the binlog relay in the path: a publisher writes its events in committed
 * transactions through {@link Outbox} on MariaDB with row-format binlogs, a {@link BinlogRelay} per topic
 * reads the inserts from the binlog and appends them to the embedded log in the same database, where
 * subscribers read. Per-key order, no loss across a restart (relays and log closed and reopened on the
 * same stored positions), the size limit and bad bytes reaching the dead letters unchanged are then
 * properties of the whole path.
 */
@Tag("database")
class BinlogRelayContractTest extends TransportContract {
    private static BinlogDatabase db;

    @Override
    protected Transport newTransport() {
        if (db == null) {
            db = BinlogDatabase.create();
        }
        return new BinlogRelayedLog();
    }

    @AfterAll
    static void drop() {
        if (db != null) {
            db.close();
            db = null;
        }
    }

    /**
     * The writer side: events in send order, committed in batches by one thread (a future completes when
     * its transaction committed), so that the thousand-event tests do not wait for a thousand commits.
     */
    private static final class BatchingWriter implements Publisher {
        private record Pending(OutboundEvent event, CompletableFuture<Void> done) {}

        private final Outbox outbox;
        private final int maxEventBytes;
        private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
        private final Thread thread;
        private volatile boolean open = true;

        BatchingWriter(Outbox outbox, int maxEventBytes) {
            this.outbox = outbox;
            this.maxEventBytes = maxEventBytes;
            this.thread = new Thread(this::run, "test-binlog-writer-" + outbox.source());
            this.thread.setDaemon(true);
            this.thread.start();
        }

        @Override
        public CompletableFuture<Void> send(OutboundEvent event) {
            Pending p = new Pending(event, new CompletableFuture<>());
            queue.add(p);
            return p.done;
        }

        private void run() {
            List<Pending> batch = new ArrayList<>();
            while (open || !queue.isEmpty()) {
                try {
                    Pending first = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    queue.drainTo(batch, 199);
                    write(batch);
                    batch.clear();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        /** One transaction for the batch; an event the outbox refuses fails alone, before the others commit. */
        private void write(List<Pending> batch) {
            List<Pending> written = new ArrayList<>();
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                for (Pending p : batch) {
                    try {
                        outbox.append(c, p.event.envelope(), p.event.bytes());
                        written.add(p);
                    } catch (RuntimeException e) {
                        p.done.completeExceptionally(e);
                    }
                }
                c.commit();
                written.forEach(p -> p.done.complete(null));
            } catch (Exception e) {
                written.forEach(p -> p.done.completeExceptionally(e));
            }
        }

        @Override
        public int maxEventBytes() {
            return maxEventBytes;
        }

        @Override
        public void close() {
            open = false;
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes the outbox, relays from the binlog to the embedded log, subscribes to the log. */
    private static final class BinlogRelayedLog implements Transport {
        private final EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names())
                .leaseDuration(Duration.ofSeconds(2)).build();
        private final Map<String, Publisher> logPublishers = new ConcurrentHashMap<>();
        private final List<BinlogRelay> relays = new ArrayList<>();

        @Override
        public String name() {
            return "binlog+log";
        }

        @Override
        public synchronized Publisher publisher(String topic) {
            Publisher toLog = logPublishers.computeIfAbsent(topic, t -> {
                // Once per topic and database: a reopened relay resumes from the stored position.
                BinlogRelay.begin(db.dataSource(), db.names(), t);
                Publisher p = log.publisher(t);
                relays.add(BinlogRelay.builder().dataSource(db.dataSource()).names(db.names()).source(t)
                        .publisher(p).leaseDuration(Duration.ofSeconds(2))
                        // the contract counts and orders the events subscribers get; heartbeats are BinlogRelayTest's
                        .freshnessHeartbeatInterval(Duration.ZERO)
                        .meterRegistry(new SimpleMeterRegistry()).build().start());
                return p;
            });
            return new BatchingWriter(Outbox.of(topic, db.names()).maxEventBytes(toLog.maxEventBytes()),
                    toLog.maxEventBytes());
        }

        @Override
        public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
            return log.subscribe(spec, handler);
        }

        @Override
        public synchronized void close() {
            relays.forEach(BinlogRelay::close);
            relays.clear();
            log.close();
        }
    }
}
