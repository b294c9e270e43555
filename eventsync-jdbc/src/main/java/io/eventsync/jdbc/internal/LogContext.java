package io.eventsync.jdbc.internal;

import io.eventsync.internal.Backoff;
import io.eventsync.jdbc.SchemaNames;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * What the embedded log's publishers and subscriptions share: the log's database, its tables
 * (resolved on first use, so a log can be built while its database is still down) and settings.
 */
public final class LogContext {
    private final DataSource dataSource;
    private final SchemaNames names;
    private final int batchSize;
    private final int maxEventBytes;
    private final Duration leaseDuration;
    private final Duration minPoll;
    private final Duration maxPoll;
    private volatile Tables tables;
    private volatile String databaseId;

    public LogContext(DataSource dataSource, SchemaNames names, int batchSize, int maxEventBytes,
                      Duration leaseDuration, Duration minPoll, Duration maxPoll) {
        this.dataSource = dataSource;
        this.names = names;
        this.batchSize = batchSize;
        this.maxEventBytes = maxEventBytes;
        this.leaseDuration = leaseDuration;
        this.minPoll = minPoll;
        this.maxPoll = maxPoll;
    }

    public DataSource dataSource() { return dataSource; }

    public int batchSize() { return batchSize; }

    public int maxEventBytes() { return maxEventBytes; }

    public Duration leaseDuration() { return leaseDuration; }

    /** The idle waits of one reader: {@code minPoll} doubling to {@code maxPoll}. */
    public Backoff.Sequence idleBackoff() { return Backoff.doubling(minPoll, maxPoll).sequence(); }

    /** The tables, resolving them on {@code c} the first time. */
    public Tables tables(Connection c) throws SQLException {
        Tables t = tables;
        if (t == null) {
            databaseId = Jdbc.databaseId(c.getMetaData().getURL());
            t = Tables.resolve(c, names);
            tables = t;
        }
        return t;
    }

    /** Null until {@link #tables} resolved them. */
    public Tables tablesIfKnown() {
        return tables;
    }

    /** Signal for readers of a topic in this JVM (after {@link #tables} resolved). */
    public WakeSignal signal(String topic) {
        return WakeSignal.of(databaseId, tables.log(), topic);
    }

    /** PostgreSQL channel for a topic (after {@link #tables} resolved). */
    public String channel(String topic) {
        return WakeSignal.channel(tables.log(), topic);
    }
}
