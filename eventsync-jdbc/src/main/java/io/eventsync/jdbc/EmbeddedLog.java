package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.LogContext;
import io.eventsync.jdbc.internal.LogPublisher;
import io.eventsync.jdbc.internal.LogSubscription;
import io.eventsync.jdbc.internal.Purge;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transport of the embedded default: a log table ({@code eventsync_log}) in a database (an H2
 * file, or PostgreSQL/MariaDB). Publishers append with gapless per-topic offsets; each consumer
 * group reads by offset and keeps its offset in the consumer's own database ({@link Offsets}).
 * Subscribers wake on commit (in-process signal, LISTEN/NOTIFY on PostgreSQL) or poll adaptively.
 *
 * <p>Retention ({@link Builder#retention}) deletes entries that every registered group has passed
 * and that are older than the configured age. A group registers when it first subscribes; with no
 * registered group nothing is deleted, so events wait for their first reader.
 */
public final class EmbeddedLog implements Transport {
    private static final Logger log = LoggerFactory.getLogger(EmbeddedLog.class);
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    private final LogContext context;
    private final Offsets defaultOffsets;
    private final Duration retentionAge;
    private final Duration retentionInterval;
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread retention;

    private EmbeddedLog(Builder b) {
        this.context = new LogContext(b.dataSource, b.names, b.batchSize, b.maxEventBytes, b.leaseDuration,
                b.minPoll, b.maxPoll);
        this.defaultOffsets = b.offsets != null ? b.offsets : Offsets.in(b.dataSource, b.names);
        this.retentionAge = b.retentionAge;
        this.retentionInterval = b.retentionInterval;
        if (retentionAge != null) {
            retention = new Thread(this::retainPeriodically, "eventsync-log-retention");
            retention.setDaemon(true);
            retention.start();
        } else {
            retention = null;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String name() {
        return "log";
    }

    /** A new publisher for {@code topic}, with its own writer thread ({@code eventsync-log-writer-<topic>}). */
    @Override
    public Publisher publisher(String topic) {
        requireTopic(topic);
        LogPublisher[] holder = new LogPublisher[1];
        holder[0] = new LogPublisher(context, topic, () -> open.remove(holder[0]));
        open.add(holder[0]);
        return holder[0];
    }

    /** Subscribes with the offsets store given to the builder (by default, in the log's database). */
    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        return subscribe(spec, handler, defaultOffsets);
    }

    /** Subscribes, keeping the group's offset in {@code offsets} (the consumer's own database). */
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler, Offsets offsets) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(offsets, "offsets");
        LogSubscription[] holder = new LogSubscription[1];
        holder[0] = new LogSubscription(context, spec, handler, offsets, () -> open.remove(holder[0]));
        open.add(holder[0]);
        handler.onSubscribed(holder[0]);
        return holder[0];
    }

    /**
     * Deletes the entries of every topic that all registered groups have passed and that are older
     * than the retention age (or than {@code Duration.ZERO} when none was configured), at most 1,000
     * entries per statement, each statement its own short transaction: writers and readers of a busy
     * topic never wait behind one long delete.
     *
     * @return entries deleted
     */
    public int retain() {
        long deleted = retainTopics(() -> true).stream().mapToLong(Purged::rows).sum();
        return (int) Math.min(Integer.MAX_VALUE, deleted);
    }

    /** What {@link #retain()} deleted, per topic; stops between two statements once {@code goOn} says no. */
    List<Purged> retainTopics(BooleanSupplier goOn) {
        Duration age = retentionAge != null ? retentionAge : Duration.ZERO;
        try (Connection c = Jdbc.connect(context.dataSource(), "log retention")) {
            c.setAutoCommit(true);
            Tables t = context.tables(c);
            List<Purged> purged = new ArrayList<>();
            for (String topic : topics(c, t)) {
                Long slowest = null;
                try (PreparedStatement ps = c.prepareStatement(t.dialect().selectSlowestGroup(t))) {
                    ps.setString(1, topic);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        if (rs.getLong(2) > 0) {
                            slowest = rs.getLong(1);
                        } // else no registered group: keep everything for the first reader
                    }
                }
                if (slowest != null) {
                    purged.add(retain(c, t, topic, slowest, age, goOn));
                }
            }
            return purged;
        } catch (SQLException e) {
            Tables t = context.tablesIfKnown();
            throw Jdbc.failure(t, "log retention", t == null ? "log" : t.log(), e);
        }
    }

    /**
     * Deletes a topic's entries below {@code slowest} and older than {@code age}, one range of at most
     * {@link Purge#BATCH} offsets per statement, from the oldest entry up. Entries are appended in
     * offset order, so the first range that deletes nothing holds only entries younger than the age,
     * and so does everything after it: the topic is done.
     */
    private static Purged retain(Connection c, Tables t, String topic, long slowest, Duration age,
                                 BooleanSupplier goOn) throws SQLException {
        long low;
        try (PreparedStatement ps = c.prepareStatement(t.dialect().selectOldestLogOffset(t))) {
            ps.setString(1, topic);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                low = rs.getLong(1);
                if (rs.wasNull()) {
                    return new Purged(t.name("log") + "[" + topic + "]", 0, 0);
                }
            }
        }
        long rows = 0;
        int statements = 0;
        try (PreparedStatement ps = c.prepareStatement(t.dialect().deleteRetainedLog(t))) {
            while (low < slowest && goOn.getAsBoolean()) {
                long bound = Math.min(slowest, low + Purge.BATCH);
                ps.setString(1, topic);
                ps.setLong(2, bound);
                ps.setLong(3, -age.toMillis());
                int n = ps.executeUpdate();
                statements++;
                rows += n;
                if (n == 0) {
                    break;
                }
                low = bound;
            }
        }
        return new Purged(t.name("log") + "[" + topic + "]", rows, statements);
    }

    private static List<String> topics(Connection c, Tables t) throws SQLException {
        List<String> topics = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(t.dialect().selectLogTopics(t));
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                topics.add(rs.getString(1));
            }
        }
        return topics;
    }

    private void retainPeriodically() {
        try {
            while (!closed.await(retentionInterval.toMillis(), TimeUnit.MILLISECONDS)) {
                try {
                    long deleted = retainTopics(() -> closed.getCount() > 0).stream().mapToLong(Purged::rows).sum();
                    if (deleted > 0) {
                        log.debug("log retention deleted {} entries", deleted);
                    }
                } catch (EventsyncException e) {
                    log.warn("log retention failed, trying again in {}: {}", retentionInterval, e.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes every publisher (after its pending sends) and subscription, and stops retention. */
    @Override
    public void close() {
        closed.countDown();
        for (AutoCloseable c : List.copyOf(open)) {
            Jdbc.closeQuietly(c);
        }
        if (retention != null) {
            try {
                retention.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void requireTopic(String topic) {
        if (topic == null || !TOPIC.matcher(topic).matches()) {
            throw new ConfigException("topic must be 1-200 letters, digits, '.', '_' or '-', but was: " + topic);
        }
    }

    /** Log settings, validated in {@link #build()}. */
    public static final class Builder {
        private DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private Offsets offsets;
        private DataSource offsetsDb;
        private int batchSize = 500;
        private int maxEventBytes = EnvelopeCodec.DEFAULT_MAX_BYTES;
        private Duration leaseDuration = Duration.ofSeconds(10);
        private Duration minPoll = Duration.ofMillis(1);
        private Duration maxPoll = Duration.ofMillis(250);
        private Duration retentionAge;
        private Duration retentionInterval = Duration.ofMinutes(1);

        /** The log's database. Required. */
        public Builder dataSource(DataSource dataSource) { this.dataSource = dataSource; return this; }

        public Builder names(SchemaNames names) { this.names = names; return this; }

        /** Where subscriptions keep their offsets unless given their own; default: the log's database. */
        public Builder offsets(Offsets offsets) { this.offsets = offsets; this.offsetsDb = null; return this; }

        /** Offsets in {@code consumerDb}, with the same schema names as the log (resolved in {@link #build()}). */
        public Builder offsets(DataSource consumerDb) { this.offsets = null; this.offsetsDb = consumerDb; return this; }

        /** Entries per append transaction and per read; 1..10000, default 500. */
        public Builder batchSize(int batchSize) { this.batchSize = batchSize; return this; }

        public Builder maxEventBytes(int maxEventBytes) { this.maxEventBytes = maxEventBytes; return this; }

        /** Group lease duration: how long a dead consumer keeps its group; default 10 s. */
        public Builder leaseDuration(Duration d) { this.leaseDuration = d; return this; }

        /** Idle polling bounds where no signal exists; default 1 ms..250 ms. */
        public Builder pollInterval(Duration min, Duration max) { this.minPoll = min; this.maxPoll = max; return this; }

        /** Deletes entries all groups passed and older than {@code age}, checking every {@code every}. */
        public Builder retention(Duration age, Duration every) {
            this.retentionAge = age;
            this.retentionInterval = every;
            return this;
        }

        public EmbeddedLog build() {
            if (dataSource == null) {
                throw new ConfigException("dataSource is required");
            }
            Objects.requireNonNull(names, "names");
            if (batchSize < 1 || batchSize > 10_000) {
                throw new ConfigException("batchSize must be 1..10000, but was: " + batchSize);
            }
            if (maxEventBytes < 1) {
                throw new ConfigException("maxEventBytes must be positive, but was: " + maxEventBytes);
            }
            positive("leaseDuration", leaseDuration);
            positive("pollInterval min", minPoll);
            positive("pollInterval max", maxPoll);
            if (maxPoll.compareTo(minPoll) < 0) {
                throw new ConfigException("pollInterval max must be >= min, but was: " + maxPoll + " < " + minPoll);
            }
            if (retentionAge != null) {
                if (retentionAge.isNegative()) {
                    throw new ConfigException("retention age must not be negative, but was: " + retentionAge);
                }
                positive("retention interval", retentionInterval);
            }
            if (offsetsDb != null) {
                offsets = Offsets.in(offsetsDb, names);
            }
            return new EmbeddedLog(this);
        }

        private static void positive(String field, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigException(field + " must be positive, but was: " + d);
            }
        }
    }
}
