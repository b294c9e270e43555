package io.eventsync.jdbc.internal;

import io.eventsync.DecodeException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading a batch of outbox rows, checking each one before it is stamped, in publish order; and the
 * writes the relay makes in its fenced transaction (delete what was published, move what no
 * transport will ever take to the relay dead letters).
 */
public final class OutboxBatch {
    /** Longest reason stored with a relay dead letter, in characters. */
    public static final int MAX_REASON_CHARS = 2000;

    private OutboxBatch() {}

    /**
     * One outbox row: {@code key} is its {@code subject} column, the partition key that orders it.
     * Either ready to publish ({@code event}), or refused before any send ({@code refusal}, e.g.
     * {@code "undecodable: ..."}), because no transport could take it.
     */
    public record Row(long id, String key, String eventId, String type, OutboundEvent event, String refusal) {
        public boolean refused() {
            return refusal != null;
        }
    }

    /**
     * The oldest {@code limit} rows of {@code source}, leaving out the rows of {@code excludedKeys}
     * and, with {@code skipParked}, of keys that have a relay dead letter. The relay reads from the
     * oldest id on every batch instead of remembering a high-water mark: a row with a lower id that
     * commits late (its transaction started first, committed after a higher id was relayed) is still
     * in the table and is simply read next time. Nothing is ever skipped, and rows of blocked keys are
     * read past, not waited for.
     *
     * @param maxEventBytes the transport's limit, stamp included
     */
    public static List<Row> read(Connection c, Tables t, String source, int limit, List<String> excludedKeys,
                                 boolean skipParked, int maxEventBytes, EnvelopeCodec codec) throws SQLException {
        List<Row> rows = new ArrayList<>();
        String sql = t.dialect().selectOutboxBatch(t, excludedKeys.size(), skipParked);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, source);
            for (String key : excludedKeys) {
                ps.setString(i++, key);
            }
            ps.setInt(i, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(check(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBytes(5),
                            maxEventBytes, codec));
                }
            }
        }
        return perSubjectBySequence(rows);
    }

    /**
     * Checks a stored row the way the transport and every consumer would, before anything is added
     * to it: a row that is too large, does not decode, or names another key than its column gets a
     * refusal instead of an event. Decoding first matters: the stamp appended to a truncated row can
     * complete a cut-off sub-message, and the corrupt row would then reach consumers in altered form.
     */
    static Row check(long id, String key, String eventId, String type, byte[] stored, int maxEventBytes,
                     EnvelopeCodec codec) {
        int stamped = stored.length + stampBytes(id);
        if (stamped > maxEventBytes) {
            return refused(id, key, eventId, type, "oversize: event " + eventId + " (key " + key + ", position " + id
                    + ") is " + stored.length + " bytes, " + stamped + " with the position the relay adds, over the"
                    + " transport's limit of " + maxEventBytes + " bytes (maxEventBytes); make the event smaller, or"
                    + " raise the transport's limit and replay it");
        }
        Envelope envelope;
        try {
            envelope = codec.decode(stored);
        } catch (DecodeException e) {
            return refused(id, key, eventId, type, "undecodable: outbox row " + id + " (event " + eventId + ", key "
                    + key + ") is not an eventsync envelope: " + e.getMessage());
        }
        String envelopeKey = envelope.getPartitionKey().isEmpty() ? envelope.getSubject() : envelope.getPartitionKey();
        if (!envelopeKey.equals(key)) {
            return refused(id, key, eventId, type, "key_mismatch: outbox row " + id + " (event " + eventId + ") has"
                    + " subject column '" + key + "' but its envelope's key is '" + envelopeKey + "'; the column must"
                    + " hold the envelope's partition_key, or its subject when partition_key is empty");
        }
        return new Row(id, key, eventId, type, stamp(id, envelope, stored), null);
    }

    private static Row refused(long id, String key, String eventId, String type, String reason) {
        return new Row(id, key, eventId, type, null, DbText.sanitize(reason, MAX_REASON_CHARS));
    }

    /**
     * Stamps the outbox id as the envelope's {@code position} (field 13) by appending the field to
     * the encoded bytes: protobuf merges concatenated messages and the last value of a scalar wins,
     * so the stored bytes (unknown fields included) travel unchanged. Only for bytes that decoded.
     */
    static OutboundEvent stamp(long id, Envelope decoded, byte[] stored) {
        return new OutboundEvent(decoded.toBuilder().setPosition(id).build(), appendVarintField(stored, 13, id));
    }

    /** Bytes of the stamp: the tag of field 13 (one byte) and the id as a varint. */
    static int stampBytes(long id) {
        int n = 2;
        for (long v = id >>> 7; v != 0; v >>>= 7) {
            n++;
        }
        return n;
    }

    public static byte[] appendVarintField(byte[] bytes, int field, long value) {
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
     * Rows leave in id order within their key: a writer that commits after another one drew its id
     * later, so for writers serialized by a lock (or one after the other) id order is commit order,
     * and a sequence says nothing across subjects that share a partition key. One guard stays: within
     * one subject a batch keeps sequence order (ties by id), for the row whose transaction drew a lower
     * id but committed after a later version of the same subject. Each subject keeps the slots it had,
     * so the interleaving of subjects and keys stays as read. Refused rows keep their slot.
     */
    static List<Row> perSubjectBySequence(List<Row> rows) {
        Map<List<String>, List<Row>> bySubject = new LinkedHashMap<>();
        for (Row r : rows) {
            if (!r.refused()) {
                bySubject.computeIfAbsent(subjectOf(r), k -> new ArrayList<>()).add(r);
            }
        }
        if (bySubject.size() == rows.size()) {
            return rows;
        }
        Map<List<String>, Iterator<Row>> sorted = new HashMap<>();
        bySubject.forEach((subject, list) -> {
            list.sort(Comparator.comparingLong((Row r) -> r.event().envelope().getSequence()).thenComparingLong(Row::id));
            sorted.put(subject, list.iterator());
        });
        List<Row> result = new ArrayList<>(rows.size());
        for (Row r : rows) {
            result.add(r.refused() ? r : sorted.get(subjectOf(r)).next());
        }
        return result;
    }

    private static List<String> subjectOf(Row r) {
        return List.of(r.key(), r.event().envelope().getSubject());
    }

    /**
     * Deletes the rows by id inside the caller's (fenced) transaction: one {@code DELETE ... WHERE id IN}
     * per 64 ids (a short list repeats its last id up to a fixed size).
     */
    public static void delete(Connection c, Tables t, Collection<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        long[] all = ids.stream().mapToLong(Long::longValue).toArray();
        int from = 0;
        while (from < all.length) {
            int size = Chunks.padded(all.length - from);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().deleteOutboxRows(t, size))) {
                for (int j = 0; j < size; j++) {
                    ps.setLong(j + 1, all[Math.min(from + j, all.length - 1)]);
                }
                ps.executeUpdate();
            }
            from += size;
        }
    }

    /** A row to move to the relay dead letters, with its (already sanitized) reason. */
    public record Letter(long id, String reason, int attempts, long millisSinceFirstFailure) {}

    /**
     * Moves the rows to the relay dead letters inside the caller's (fenced) transaction: copied in the
     * database (the payload never travels), then deleted from the outbox.
     */
    public static void moveToDeadLetters(Connection c, Tables t, Collection<Letter> letters) throws SQLException {
        if (letters.isEmpty()) {
            return;
        }
        // One statement per letter, not a JDBC batch: MariaDB's bulk protocol refuses INSERT ... SELECT,
        // and letters are rare.
        try (PreparedStatement ps = c.prepareStatement(t.dialect().insertOutboxDeadLetter(t))) {
            for (Letter l : letters) {
                ps.setString(1, DbText.sanitize(l.reason(), MAX_REASON_CHARS));
                ps.setInt(2, l.attempts());
                ps.setLong(3, -Math.max(0, l.millisSinceFirstFailure()));
                ps.setLong(4, l.id());
                ps.executeUpdate();
            }
        }
        delete(c, t, letters.stream().map(Letter::id).toList());
    }

    /** Whether {@code source} has relay dead letters (its keys are parked). */
    public static boolean hasDeadLetters(Connection c, Tables t, String source) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.dialect().countOutboxDeadLetters(t))) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(1) > 0;
            }
        }
    }
}
