package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a copy database's eventsync tables bounded: every {@link Builder#every interval} it purges the
 * inbox rows past the dedup window ({@link Inbox#purge}) and the tombstones past each copy table's
 * window ({@link CopyTable#purgeTombstones}), in batches of at most 1,000 rows per statement. One
 * thread ({@code eventsync-retention-<name>}), stopped by {@link #close()}. A failed pass is logged
 * and tried again at the next interval. (The embedded log has its own: {@link EmbeddedLog.Builder#retention}.)
 *
 * <pre>{@code
 * Retention retention = Retention.builder("accounts-copy").inbox(inbox)
 *         .tombstones(copyDb, List.of(accounts)).every(Duration.ofMinutes(1)).build().start();
 * }</pre>
 *
 * <p>Meter: {@code eventsync.retention.deleted} (counter, tag {@code table}).
 */
public final class Retention implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Retention.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    private final String name;
    private final Inbox inbox;
    private final DataSource copyDb;
    private final List<CopyTable> tables;
    private final Duration every;
    private final MeterRegistry meters;
    private final Map<String, Counter> deleted = new ConcurrentHashMap<>();
    private final CountDownLatch closed = new CountDownLatch(1);
    private Thread thread;

    private Retention(Builder b) {
        this.name = b.name;
        this.inbox = b.inbox;
        this.copyDb = b.copyDb;
        this.tables = List.copyOf(b.tables);
        this.every = b.every;
        this.meters = b.meters;
    }

    /** {@code name} names the thread, e.g. the subscription. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Starts purging every interval, the first pass one interval from now. */
    public synchronized Retention start() {
        if (thread != null) {
            throw new IllegalStateException("retention " + name + " is already started");
        }
        if (closed.getCount() == 0) {
            throw new IllegalStateException("retention " + name + " is closed");
        }
        thread = new Thread(this::run, "eventsync-retention-" + name);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /**
     * One pass now, on the caller's thread: the inbox, then each copy table's tombstones.
     *
     * @throws EventsyncException when a database cannot be reached; what was deleted before stays deleted
     */
    public List<Purged> runOnce() {
        List<Purged> purged = new ArrayList<>();
        if (inbox != null && running()) {
            purged.add(count(inbox.purge(this::running)));
        }
        for (CopyTable table : tables) {
            if (running()) {
                purged.add(count(table.purgeTombstones(copyDb, this::running)));
            }
        }
        return purged;
    }

    private boolean running() {
        return closed.getCount() > 0;
    }

    private Purged count(Purged p) {
        if (p.rows() > 0) {
            deleted.computeIfAbsent(p.table(), t -> Counter.builder("eventsync.retention.deleted")
                    .description("rows deleted by retention (past the dedup window, the tombstone window)")
                    .tag("table", t).register(meters)).increment(p.rows());
            log.debug("retention {} deleted {} rows of {} in {} statements", name, p.rows(), p.table(), p.statements());
        }
        return p;
    }

    private void run() {
        try {
            while (!closed.await(every.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    runOnce();
                } catch (EventsyncException e) {
                    log.warn("retention {} failed, trying again in {}: {}", name, every, e.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops after the statement in progress (each deletes one batch) and waits up to 10 s for it. */
    @Override
    public void close() {
        closed.countDown();
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Retention settings, validated in {@link #build()}. */
    public static final class Builder {
        private final String name;
        private Inbox inbox;
        private DataSource copyDb;
        private final List<CopyTable> tables = new ArrayList<>();
        private Duration every = Duration.ofMinutes(1);
        private MeterRegistry meters = Metrics.globalRegistry; // as every eventsync component

        private Builder(String name) {
            this.name = name;
        }

        /** Purge {@code inbox}'s rows past its {@linkplain Inbox#dedupWindow() dedup window}. */
        public Builder inbox(Inbox inbox) {
            this.inbox = Objects.requireNonNull(inbox, "inbox");
            return this;
        }

        /** Purge the tombstones of {@code tables}, which live in {@code copyDb}, past each one's window. */
        public Builder tombstones(DataSource copyDb, List<CopyTable> tables) {
            this.copyDb = Objects.requireNonNull(copyDb, "copyDb");
            this.tables.addAll(Objects.requireNonNull(tables, "tables"));
            return this;
        }

        /** How often a pass runs; default 1 minute. */
        public Builder every(Duration every) {
            this.every = every;
            return this;
        }

        public Builder meterRegistry(MeterRegistry meters) {
            this.meters = Objects.requireNonNull(meters, "meterRegistry");
            return this;
        }

        public Retention build() {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new ConfigException("retention name must be 1-200 letters, digits, '.', '_' or '-', but was: "
                        + name);
            }
            if (every == null || every.isNegative() || every.isZero()) {
                throw new ConfigException("retention interval (every) must be positive, but was: " + every);
            }
            if (inbox == null && tables.isEmpty()) {
                throw new ConfigException("retention " + name + " has nothing to purge: give it inbox(...) and/or"
                        + " tombstones(...)");
            }
            return new Retention(this);
        }
    }
}
