package io.eventsync.jdbc.internal;

import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import io.eventsync.ConfigException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One reading of the binlog by the binlog relay: turns row events into sends and transaction ends into
 * confirmable positions in a {@link WalWindow} (the same window as the WAL relay's; positions are
 * {@link BinlogPosition#ordinal()}s). Events are the rows inserted into the outbox table with this
 * relay's source; the end of every transaction (XID, or a COMMIT or DDL query) is a mark. Rolled-back
 * transactions are not in the binlog; a transaction is there at its commit, so the order is commit order.
 * Reader thread only.
 */
public final class BinlogSession {
    /** Freshness marks kept while the window has not confirmed up to them; newer ones suffice. */
    private static final int MAX_MARKS = 64;

    /** A freshness mark: the position that ends its transaction and the source clock it carries. */
    private record FreshnessMark(long ordinal, Instant time) {}

    private final String schema;
    private final String outboxTable;
    private final String markTable;
    private final String source;
    private final byte[] sourceBytes;
    private final Publisher publisher;
    private final Runnable wake;
    private final WalWindow window;
    /** Outbox columns (zero-based): id, source, subject, payload; mark columns: source, marked_micros. */
    private final int[] outbox;
    private final int[] mark;
    private final Map<Long, String> fileNames = new HashMap<>();
    private final ArrayDeque<FreshnessMark> freshnessMarks = new ArrayDeque<>();
    private String file;
    private long outboxTableId = -1;
    private long markTableId = -1;
    /** The newest mark time read in the open transaction; a mark once its transaction ends. */
    private Instant pendingMark;

    /**
     * @param start  the stored position, where the stream starts
     * @param outbox zero-based positions of the outbox's id, source, subject and payload columns
     * @param mark   zero-based positions of the mark table's source and marked_micros columns
     * @param wake   run on the transport's thread when a send completes
     */
    public BinlogSession(Tables tables, String source, Publisher publisher, BinlogPosition start, int[] outbox,
                         int[] mark, Runnable wake) {
        this.schema = tables.schema();
        this.outboxTable = tables.prefix() + "outbox";
        this.markTable = tables.prefix() + "binlog_mark";
        this.source = source;
        this.sourceBytes = source.getBytes(StandardCharsets.UTF_8);
        this.publisher = publisher;
        this.wake = wake;
        this.outbox = outbox;
        this.mark = mark;
        this.file = start.file();
        this.fileNames.put(BinlogPosition.sequence(start.file()), start.file());
        this.window = new WalWindow(start.ordinal());
    }

    /** Acts on one event from the stream. */
    public void handle(Event event) {
        EventHeaderV4 header = event.getHeader();
        if (header == null) {
            return;
        }
        Object data = event.getData();
        switch (header.getEventType()) {
            case ROTATE -> {
                file = ((RotateEventData) data).getBinlogFilename();
                fileNames.put(BinlogPosition.sequence(file), file);
            }
            case TABLE_MAP -> tableMap((TableMapEventData) data);
            case WRITE_ROWS, EXT_WRITE_ROWS -> {
                WriteRowsEventData rows = (WriteRowsEventData) data;
                if (rows.getTableId() == outboxTableId) {
                    for (Serializable[] row : rows.getRows()) {
                        inserted(row, rows.getIncludedColumns(), header.getTimestamp());
                    }
                } else if (rows.getTableId() == markTableId) {
                    rows.getRows().forEach(this::marked);
                }
            }
            case UPDATE_ROWS, EXT_UPDATE_ROWS -> {
                UpdateRowsEventData rows = (UpdateRowsEventData) data;
                if (rows.getTableId() == markTableId) {
                    rows.getRows().forEach(r -> marked(r.getValue()));
                }
            }
            case XID -> end(header);
            case QUERY -> {
                String sql = ((QueryEventData) data).getSql();
                if (!"BEGIN".equalsIgnoreCase(sql)) {
                    end(header); // COMMIT of a non-transactional engine, or DDL (its own transaction)
                }
            }
            default -> {
                // GTIDs, format descriptions, deletes and updates of other tables, annotations: not events
            }
        }
    }

    private void tableMap(TableMapEventData t) {
        boolean ours = schema.equals(t.getDatabase());
        if (ours && outboxTable.equals(t.getTable())) {
            outboxTableId = t.getTableId();
        } else if (ours && markTable.equals(t.getTable())) {
            markTableId = t.getTableId();
        } else if (t.getTableId() == outboxTableId) {
            outboxTableId = -1; // the id now names another table (after a DDL or a server restart)
        } else if (t.getTableId() == markTableId) {
            markTableId = -1;
        }
    }

    private void inserted(Serializable[] row, BitSet included, long timestamp) {
        for (int column : outbox) {
            if (!included.get(column)) {
                throw new ConfigException("the binlog has an outbox insert without column " + (column + 1) + " of "
                        + schema + "." + outboxTable + " (binlog_row_image=MINIMAL or NOBLOB leaves columns out);"
                        + " set binlog_row_image=FULL");
            }
        }
        if (!java.util.Arrays.equals(sourceBytes, bytes(row[outbox[1]]))) {
            return; // another source's row
        }
        long id = ((Number) row[outbox[0]]).longValue();
        byte[] subject = bytes(row[outbox[2]]);
        OutboundEvent e = WalEvent.of(id, subject == null ? null : new String(subject, StandardCharsets.UTF_8),
                bytes(row[outbox[3]]));
        window.send(e, timestamp, WalWindow.withinLimit(publisher), wake);
    }

    private void marked(Serializable[] row) {
        if (row[mark[1]] instanceof Number micros) {
            pendingMark = Instant.EPOCH.plusNanos(micros.longValue() * 1000);
        }
    }

    private void end(EventHeaderV4 header) {
        long ordinal = new BinlogPosition(file, header.getNextPosition()).ordinal();
        window.mark(ordinal, header.getTimestamp());
        if (pendingMark != null) {
            if (freshnessMarks.size() == MAX_MARKS) {
                freshnessMarks.removeFirst();
            }
            freshnessMarks.addLast(new FreshnessMark(ordinal, pendingMark));
            pendingMark = null;
        }
    }

    private static byte[] bytes(Serializable value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] b) {
            return b;
        }
        return value.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The newest source time such that every event of the source committed before it was confirmed,
     * from the freshness marks the window has confirmed up to since the last call; null when none. Any
     * relay's mark on this server counts: its time was read before it committed.
     */
    public Instant confirmedFreshness() {
        long upTo = window.confirmable();
        Instant newest = null;
        while (!freshnessMarks.isEmpty() && freshnessMarks.peekFirst().ordinal() <= upTo) {
            newest = freshnessMarks.removeFirst().time();
        }
        return newest;
    }

    /** The position {@link #confirmable()} stands for: file and offset. */
    public BinlogPosition position(long ordinal) {
        String name = fileNames.get(ordinal >>> 32);
        if (name == null) {
            throw new IllegalStateException("no binlog file with sequence " + (ordinal >>> 32) + " was read");
        }
        return new BinlogPosition(name, ordinal & 0xFFFF_FFFFL);
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
