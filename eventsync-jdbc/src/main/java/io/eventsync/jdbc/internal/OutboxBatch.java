package io.eventsync.jdbc.internal;

import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;
import com.google.protobuf.InvalidProtocolBufferException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reading a batch of outbox rows and turning them into stamped events, in publish order. */
public final class OutboxBatch {
    private OutboxBatch() {}

    /** One outbox row ready to publish. */
    public record Row(long id, String subject, long sequence, OutboundEvent event) {}

    /**
     * The oldest {@code limit} rows of {@code source}. The relay re-reads what remains on every batch
     * instead of remembering a high-water mark: a row with a lower id that commits late (its
     * transaction started first, committed after a higher id was relayed) is still in the table and
     * is simply read next time. Nothing is ever skipped.
     */
    public static List<Row> read(Connection c, Tables t, String source, int limit) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(t.dialect().selectOutboxBatch(t))) {
            ps.setString(1, source);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    String subject = rs.getString(2);
                    long sequence = rs.getLong(3);
                    rows.add(new Row(id, subject, sequence, stamp(id, subject, rs.getBytes(4))));
                }
            }
        }
        return perSubjectBySequence(rows);
    }

    /**
     * Stamps the outbox id as the envelope's {@code position} (field 13) by appending the field to
     * the encoded bytes: protobuf merges concatenated messages and the last value of a scalar wins,
     * so the stored bytes (unknown fields included) travel unchanged. The envelope object is decoded
     * only for transports that map attributes to headers; an undecodable row still goes out (the
     * consumer dead-letters it) rather than blocking the outbox.
     */
    static OutboundEvent stamp(long id, String subject, byte[] stored) {
        byte[] bytes = appendVarintField(stored, 13, id);
        Envelope envelope;
        try {
            envelope = Envelope.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            envelope = Envelope.newBuilder().setSubject(subject).setPosition(id).build();
        }
        return new OutboundEvent(envelope, bytes);
    }

    static byte[] appendVarintField(byte[] bytes, int field, long value) {
        byte[] tail = new byte[11];
        int n = 0;
        tail[n++] = (byte) (field << 3); // wire type 0: varint
        long v = value;
        while ((v & ~0x7FL) != 0) {
            tail[n++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        tail[n++] = (byte) v;
        byte[] out = new byte[bytes.length + n];
        System.arraycopy(bytes, 0, out, 0, bytes.length);
        System.arraycopy(tail, 0, out, bytes.length, n);
        return out;
    }

    /**
     * Within one batch, events of a subject leave in sequence order (ties by id). Writers of one
     * subject are serialized by the business row lock, so sequence order is their commit order, while
     * ids are drawn at insert time and may not be. Each subject keeps the slots it had, so the
     * interleaving across subjects (and position order) stays as read.
     */
    static List<Row> perSubjectBySequence(List<Row> rows) {
        Map<String, List<Row>> bySubject = new LinkedHashMap<>();
        for (Row r : rows) {
            bySubject.computeIfAbsent(r.subject(), k -> new ArrayList<>()).add(r);
        }
        if (bySubject.size() == rows.size()) {
            return rows;
        }
        Map<String, Iterator<Row>> sorted = new HashMap<>();
        bySubject.forEach((subject, list) -> {
            list.sort(Comparator.comparingLong(Row::sequence).thenComparingLong(Row::id));
            sorted.put(subject, list.iterator());
        });
        List<Row> result = new ArrayList<>(rows.size());
        for (Row r : rows) {
            result.add(sorted.get(r.subject()).next());
        }
        return result;
    }

    /** Deletes the rows by id inside the caller's (fenced) transaction. */
    public static void delete(Connection c, Tables t, List<Long> ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.dialect().deleteOutboxRow(t))) {
            for (long id : ids) {
                ps.setLong(1, id);
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
