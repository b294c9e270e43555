package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.Position;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.OutboxRow;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.internal.WakeSignal;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The transactional outbox of one source (service): events are written in the caller's own
 * transaction, beside the business change, so both commit or neither does (no dual write).
 *
 * <p>{@link #append} never commits, rolls back or changes the connection's auto-commit; the caller's
 * transaction decides. On PostgreSQL the insert also NOTIFYs the relay, which PostgreSQL delivers only
 * at commit; a relay in the same JVM is also woken in-process. Thread-safe.
 */
public final class Outbox {
    private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    private final String source;
    private final SchemaNames names;
    private volatile Bound bound;

    private Outbox(String source, SchemaNames names) {
        this.source = source;
        this.names = names;
    }

    /** The outbox of {@code source} in the connection's current schema, tables prefixed {@code eventsync_}. */
    public static Outbox of(String source) {
        return of(source, SchemaNames.defaults());
    }

    public static Outbox of(String source, SchemaNames names) {
        if (source == null || !SOURCE.matcher(source).matches()) {
            throw new ConfigException("source must be 1-200 letters, digits, '.', '_' or '-', but was: " + source);
        }
        return new Outbox(source, Objects.requireNonNull(names, "names"));
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
     * {@code envelope} supplies the columns, {@code bytes} is stored as is.
     */
    public Position append(Connection connection, Envelope envelope, byte[] bytes) {
        return new Position(source, insert(connection, envelope, bytes));
    }

    private long insert(Connection connection, Envelope e, byte[] bytes) {
        if (e.getId().isEmpty() || e.getSubject().isEmpty()) {
            throw new IllegalArgumentException("an outbox event needs an id and a subject, but id=" + e.getId()
                    + " subject=" + e.getSubject());
        }
        Bound b = bind(connection);
        String key = e.getPartitionKey().isEmpty() ? e.getSubject() : e.getPartitionKey();
        OutboxRow row = new OutboxRow(source, e.getId(), key, e.getType(), e.getSequence(), bytes);
        try {
            long id = b.tables.dialect().insertOutbox(connection, b.tables, b.channel, row);
            b.signal.signal();
            return id;
        } catch (SQLException ex) {
            throw Jdbc.failure(b.tables, "appending event " + e.getId() + " of " + e.getSubject() + " to the outbox",
                    b.tables.outboxName(), ex);
        }
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
