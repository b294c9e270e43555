package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.EventsyncException;
import io.eventsync.Position;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.internal.Tracing;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.OutboxRow;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.WakeSignal;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The transactional outbox of one source (service): events are written in the caller's own
 * transaction, beside the business change, so both commit or neither does (no dual write).
 *
 * <p>{@link #append} never commits, rolls back or changes the connection's auto-commit; the caller's
 * transaction decides. On PostgreSQL the insert also NOTIFYs the relay, which PostgreSQL delivers only
 * at commit; a relay in the same JVM is also woken in-process. Thread-safe.
 *
 * <p><b>Why NOTIFY is rate-limited.</b> A notifying transaction takes PostgreSQL's global notify lock
 * at commit and holds it through the WAL flush, so notifying writers commit one at a time; measured
 * here it cut writer throughput by half or more under load. A notification only matters to a relay
 * that is idle: once woken, the relay keeps reading (lingering a few ms between partial batches, then
 * polling from 1 ms up) until the outbox is empty. So this outbox notifies at most once per
 * {@link #notifyInterval} per JVM; a commit whose notification was skipped follows one that woke the
 * relay less than that interval earlier, and is found by the relay's next read or short poll. (If the
 * notifying transaction rolls back, the relay finds the others at its next poll, at most its maximum
 * poll interval later.)
 *
 * <p><b>Tracing.</b> When the OpenTelemetry API is on the class path and a span is current at
 * {@link #append}, an event that has no {@code traceparent} yet is stored with the span's W3C context
 * ({@code traceparent}, {@code tracestate}), so the relay and the copies continue the writer's trace.
 */
public final class Outbox {
    private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    /** Default minimum time between two NOTIFYs of one outbox from this JVM. */
    public static final Duration DEFAULT_NOTIFY_INTERVAL = Duration.ofMillis(5);
    /** Room kept for the position field (a tag and a varint) the relay appends to each event. */
    private static final int POSITION_STAMP_BYTES = 16;

    private final String source;
    private final SchemaNames names;
    private final long notifyIntervalNanos;
    private final int maxEventBytes;
    private final AtomicLong nextNotifyNanos = new AtomicLong(System.nanoTime());
    private volatile Bound bound;

    private Outbox(String source, SchemaNames names, Duration notifyInterval, int maxEventBytes) {
        this.source = source;
        this.names = names;
        this.notifyIntervalNanos = notifyInterval.toNanos();
        this.maxEventBytes = maxEventBytes;
    }

    /** The outbox of {@code source} in the connection's current schema, tables prefixed {@code eventsync_}. */
    public static Outbox of(String source) {
        return of(source, SchemaNames.defaults());
    }

    public static Outbox of(String source, SchemaNames names) {
        if (source == null || !SOURCE.matcher(source).matches()) {
            throw new ConfigException("source must be 1-200 letters, digits, '.', '_' or '-', but was: " + source);
        }
        return new Outbox(source, Objects.requireNonNull(names, "names"), DEFAULT_NOTIFY_INTERVAL,
                EnvelopeCodec.DEFAULT_MAX_BYTES);
    }

    /**
     * This outbox with another minimum interval between NOTIFYs (PostgreSQL): zero notifies on every
     * transaction (lowest idle latency, writers serialize at commit); larger values cost less under load.
     */
    public Outbox notifyInterval(Duration interval) {
        if (interval == null || interval.isNegative()) {
            throw new ConfigException("notifyInterval must be zero or positive, but was: " + interval);
        }
        return new Outbox(source, names, interval, maxEventBytes);
    }

    /**
     * This outbox with another size limit (default 1 MiB, the transports' default). An event over it is
     * refused in the writer's transaction: once committed, an event no transport accepts would stay in
     * the outbox and hold back every later event of its key.
     */
    public Outbox maxEventBytes(int maxEventBytes) {
        if (maxEventBytes <= POSITION_STAMP_BYTES) {
            throw new ConfigException("maxEventBytes must be greater than " + POSITION_STAMP_BYTES + ", but was: "
                    + maxEventBytes);
        }
        return new Outbox(source, names, Duration.ofNanos(notifyIntervalNanos), maxEventBytes);
    }

    public Duration notifyInterval() {
        return Duration.ofNanos(notifyIntervalNanos);
    }

    public String source() {
        return source;
    }

    /**
     * Writes the events in the caller's transaction.
     *
     * @return the position of the last event: a consistency token for {@code awaitApplied}
     * @throws ConfigException when the outbox table does not exist (the message names it)
     * @throws EventsyncException on any other database failure (the caller's transaction should roll back)
     */
    public Position append(Connection connection, Envelope... events) {
        if (events.length == 0) {
            throw new IllegalArgumentException("append needs at least one event");
        }
        long last = 0;
        for (Envelope e : events) {
            last = insert(connection, e, e.toByteArray());
        }
        return new Position(source, last);
    }

    /**
     * Writes an event whose encoded form the caller already has (e.g. from {@code EnvelopeCodec});
     * {@code envelope} supplies the columns, {@code bytes} is stored as is (with the current span's trace
     * context appended when {@code envelope} has no traceparent, see the class comment).
     */
    public Position append(Connection connection, Envelope envelope, byte[] bytes) {
        return new Position(source, insert(connection, envelope, bytes));
    }

    private long insert(Connection connection, Envelope e, byte[] bytes) {
        if (e.getId().isEmpty() || e.getSubject().isEmpty()) {
            throw new IllegalArgumentException("an outbox event needs an id and a subject, but id=" + e.getId()
                    + " subject=" + e.getSubject());
        }
        bytes = Tracing.stamp(e, bytes, maxEventBytes - POSITION_STAMP_BYTES);
        if (bytes.length > maxEventBytes - POSITION_STAMP_BYTES) {
            throw new PermanentException("event " + e.getId() + " of " + e.getSubject() + " is " + bytes.length
                    + " bytes, over the outbox limit of " + (maxEventBytes - POSITION_STAMP_BYTES) + " bytes ("
                    + maxEventBytes + " minus " + POSITION_STAMP_BYTES + " for the position the relay adds);"
                    + " make the event smaller or raise maxEventBytes here and on the transport");
        }
        Bound b = bind(connection);
        String key = e.getPartitionKey().isEmpty() ? e.getSubject() : e.getPartitionKey();
        OutboxRow row = new OutboxRow(source, e.getId(), key, e.getType(), e.getSequence(), bytes);
        try {
            long id = b.tables.dialect().insertOutbox(connection, b.tables, notifyNow() ? b.channel : null, row);
            b.signal.signal();
            return id;
        } catch (SQLException ex) {
            throw Jdbc.failure(b.tables, "appending event " + e.getId() + " of " + e.getSubject() + " to the outbox",
                    b.tables.outboxName(), ex);
        }
    }

    /**
     * The position of the latest event of {@code subject} (its partition key, when the event had one)
     * that is still in this outbox, committed but not yet relayed; empty when the relay has sent all
     * of them. A consistency token for a key: once a copy has applied it ({@code Inbox.awaitApplied}),
     * it has applied every event of the key committed before this call (events of one key are
     * applied in order). {@code eventsync verify} uses it to wait out changes in flight.
     */
    public Optional<Position> pendingPosition(Connection connection, String subject) {
        Bound b = bind(connection);
        try (PreparedStatement ps = connection.prepareStatement(b.tables.dialect().selectPendingPosition(b.tables))) {
            ps.setString(1, source);
            ps.setString(2, subject);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long id = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(new Position(source, id));
            }
        } catch (SQLException ex) {
            throw Jdbc.failure(b.tables, "reading the pending events of " + subject + " in the outbox",
                    b.tables.outboxName(), ex);
        }
    }

    /** True for at most one caller per notify interval. */
    private boolean notifyNow() {
        long now = System.nanoTime();
        long next = nextNotifyNanos.get();
        return now - next >= 0 && nextNotifyNanos.compareAndSet(next, now + notifyIntervalNanos);
    }

    private Bound bind(Connection connection) {
        Bound b = bound;
        if (b == null) {
            try {
                Tables tables = Tables.resolve(connection, names);
                b = Bound.of(tables, connection.getMetaData().getURL(), source);
                bound = b;
            } catch (SQLException ex) {
                throw new EventsyncException("cannot read the metadata of " + Jdbc.urlOf(connection) + ": " + ex.getMessage(), ex);
            }
        }
        return b;
    }

    /** What the first connection told us: tables, the PostgreSQL channel, the in-process signal. */
    private record Bound(Tables tables, String channel, WakeSignal signal) {
        static Bound of(Tables tables, String url, String source) {
            return new Bound(tables, Outbox.channel(tables, source), Outbox.signal(url, tables, source));
        }
    }

    static String channel(Tables tables, String source) {
        return WakeSignal.channel(tables.outboxName(), source);
    }

    static WakeSignal signal(String url, Tables tables, String source) {
        return WakeSignal.of(Jdbc.databaseId(url), tables.outboxName(), source);
    }
}
