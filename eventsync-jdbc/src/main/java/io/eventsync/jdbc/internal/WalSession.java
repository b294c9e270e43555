package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * One reading of a slot by the WAL relay: turns pgoutput messages into sends and confirmable
 * positions. Events are a source's logical messages (prefix {@code eventsync:<source>}) and its rows
 * inserted into the outbox table; every transaction's end, every message outside a transaction, and a
 * keepalive's position between transactions become marks in the {@link WalWindow}. Reader thread only.
 */
public final class WalSession {
    private static final long PG_EPOCH_MILLIS = 946_684_800_000L;
    /**
     * Prefix of the freshness marks WAL relays write (content: the database clock in epoch microseconds,
     * read as the message was written); no event ever carries it.
     */
    public static final String FRESHNESS_PREFIX = "eventsync-freshness";
    /** Marks kept while the window has not confirmed up to them; older ones are dropped, newer ones suffice. */
    private static final int MAX_MARKS = 64;

    /** A freshness mark read from the slot: its position and the source clock it carries. */
    private record FreshnessMark(long lsn, Instant time) {}

    private final ArrayDeque<FreshnessMark> freshnessMarks = new ArrayDeque<>();

    private final Tables tables;
    private final String source;
    private final String prefix;
    private final Publisher publisher;
    private final Runnable wake;
    private final WalWindow window;
    private int outboxRelation = -1;
    private int idColumn;
    private int sourceColumn;
    private int subjectColumn;
    private int payloadColumn;
    private boolean inTransaction;
    private long transactionCommitMillis;

    /**
     * @param start  the slot's confirmed position, where the stream starts
     * @param prefix the message prefix of the source's events
     * @param wake   run on the transport's thread when a send completes
     */
    public WalSession(Tables tables, String source, String prefix, Publisher publisher, long start, Runnable wake) {
        this.tables = tables;
        this.source = source;
        this.prefix = prefix;
        this.publisher = publisher;
        this.wake = wake;
        this.window = new WalWindow(start);
    }

    /** Decodes and acts on one message from the stream. */
    public void handle(ByteBuffer data) {
        PgOutput.Message message = PgOutput.decode(data);
        if (message instanceof PgOutput.Begin b) {
            inTransaction = true;
            transactionCommitMillis = b.commitMicros() / 1000 + PG_EPOCH_MILLIS;
        } else if (message instanceof PgOutput.Commit c) {
            inTransaction = false;
            window.mark(c.endLsn(), c.commitMicros() / 1000 + PG_EPOCH_MILLIS);
        } else if (message instanceof PgOutput.LogicalMessage m) {
            boolean between = !m.transactional() && !inTransaction;
            long millis = between ? System.currentTimeMillis() : transactionCommitMillis;
            if (m.prefix().equals(prefix)) {
                send(WalEvent.of(m.lsn(), null, m.content()), millis);
            }
            if (between) {
                window.mark(m.lsn(), millis); // heartbeats, other sources' messages: positions all the same
                if (m.prefix().equals(FRESHNESS_PREFIX)) {
                    freshnessMark(m);
                }
            }
        } else if (message instanceof PgOutput.Relation r) {
            if (r.namespace().equals(tables.schema()) && r.name().equals(tables.prefix() + "outbox")) {
                outboxRelation = r.id();
                idColumn = required(r, "id");
                sourceColumn = required(r, "source");
                subjectColumn = required(r, "subject");
                payloadColumn = required(r, "payload");
            }
        } else if (message instanceof PgOutput.Insert i) {
            if (i.relation() == outboxRelation && source.equals(PgOutput.text(i, sourceColumn))) {
                send(WalEvent.of(PgOutput.int8(i, idColumn), PgOutput.text(i, subjectColumn),
                        PgOutput.bytea(i, payloadColumn)), transactionCommitMillis);
            }
        }
        // anything else (updates, deletes, truncates, types, origins) is not an event
    }

    /**
     * Everything the server sent has been read: outside a transaction, the position it last reported
     * (a keepalive's, the last commit's) is confirmable once the events before it are.
     */
    public void caughtUp(long lastReceived) {
        if (!inTransaction) {
            window.mark(lastReceived, System.currentTimeMillis());
        }
    }

    /**
     * A freshness mark from any relay on this database counts: its time was read before it was written,
     * so every transaction committed before that time precedes it in the WAL, and once the window
     * confirmed up to it, every event of this source committed before that time was published.
     */
    private void freshnessMark(PgOutput.LogicalMessage m) {
        long micros;
        try {
            micros = Long.parseLong(new String(m.content(), StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            return; // not written by this version; no event depends on it
        }
        if (freshnessMarks.size() == MAX_MARKS) {
            freshnessMarks.removeFirst();
        }
        freshnessMarks.addLast(new FreshnessMark(m.lsn(), Instant.EPOCH.plusNanos(micros * 1000)));
    }

    /**
     * The newest source time that every event of the source committed before it was confirmed, from
     * the freshness marks the window has confirmed up to since the last call; null when none.
     */
    public Instant confirmedFreshness() {
        long upTo = window.confirmable();
        Instant newest = null;
        while (!freshnessMarks.isEmpty() && freshnessMarks.peekFirst().lsn() <= upTo) {
            newest = freshnessMarks.removeFirst().time();
        }
        return newest;
    }

    private int required(PgOutput.Relation r, String column) {
        int index = r.column(column);
        if (index < 0) {
            throw new ConfigException("outbox table " + tables.outboxName() + " has no column " + column
                    + " in the WAL; its columns are " + r.columns() + " (install it with EventsyncSchema.install)");
        }
        return index;
    }

    private void send(OutboundEvent event, long commitMillis) {
        window.send(event, commitMillis, WalWindow.withinLimit(publisher), wake);
    }

    /** See {@link WalWindow#drain(long, Consumer, WalWindow.Refusals)}. */
    public void drain(long timeoutNanos, Consumer<OutboundEvent> confirmed, WalWindow.Refusals refusals) {
        window.drain(timeoutNanos, confirmed, refusals);
    }

    public long confirmable() {
        return window.confirmable();
    }

    public int inFlight() {
        return window.events();
    }

    public boolean isIdle() {
        return window.isEmpty();
    }

    public long oldestPendingMillis() {
        return window.oldestPendingMillis();
    }
}
