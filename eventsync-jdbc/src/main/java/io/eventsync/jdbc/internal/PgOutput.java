package io.eventsync.jdbc.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the messages of PostgreSQL's built-in {@code pgoutput} plugin, protocol version 1, as the
 * WAL relay reads them (no streaming of in-progress transactions, so no xid fields). Only what the
 * relay acts on is decoded: BEGIN, COMMIT, logical messages ({@code messages 'true'}), RELATION and
 * INSERT; every other message (UPDATE, DELETE, TRUNCATE, TYPE, ORIGIN) decodes to {@link Other}.
 *
 * <p>Format: PostgreSQL documentation, "Logical Replication Message Formats". Integers are big-endian;
 * strings are NUL-terminated UTF-8.
 */
public final class PgOutput {
    private PgOutput() {}

    /** One decoded message. */
    public sealed interface Message permits Begin, Commit, LogicalMessage, Relation, Insert, Other {}

    /** A transaction starts; its changes and transactional messages follow, then its {@link Commit}. */
    public record Begin(long finalLsn, long commitMicros, int xid) implements Message {}

    /** @param endLsn the end of the commit record: confirming it means this transaction is never sent again */
    public record Commit(long commitLsn, long endLsn, long commitMicros) implements Message {}

    /** {@code pg_logical_emit_message}: {@code lsn} is what the function returned to the writer. */
    public record LogicalMessage(boolean transactional, long lsn, String prefix, byte[] content) implements Message {}

    /** A table's shape, sent before its first change on this connection (and again after DDL). */
    public record Relation(int id, String namespace, String name, List<String> columns) implements Message {
        public int column(String column) {
            return columns.indexOf(column);
        }
    }

    /**
     * A new row: one value per column of its relation, {@code null} for SQL NULL (and for unchanged
     * TOAST values, which an INSERT never has). {@code binary[i]} tells whether value i is in the type's
     * binary send format ({@code binary 'true'}) or its text format.
     */
    public record Insert(int relation, byte[][] values, boolean[] binary) implements Message {}

    /** A message the relay has no use for. */
    public record Other(char type) implements Message {}

    /** Decodes one message (the payload of one XLogData), reading {@code buffer} from its position. */
    public static Message decode(ByteBuffer buffer) {
        char type = (char) buffer.get();
        return switch (type) {
            case 'B' -> new Begin(buffer.getLong(), buffer.getLong(), buffer.getInt());
            case 'C' -> {
                buffer.get(); // flags, unused
                yield new Commit(buffer.getLong(), buffer.getLong(), buffer.getLong());
            }
            case 'M' -> {
                boolean transactional = (buffer.get() & 1) != 0;
                long lsn = buffer.getLong();
                String prefix = string(buffer);
                byte[] content = new byte[buffer.getInt()];
                buffer.get(content);
                yield new LogicalMessage(transactional, lsn, prefix, content);
            }
            case 'R' -> relation(buffer);
            case 'I' -> insert(buffer);
            default -> new Other(type);
        };
    }

    private static Relation relation(ByteBuffer buffer) {
        int id = buffer.getInt();
        String namespace = string(buffer);
        String name = string(buffer);
        buffer.get(); // replica identity setting
        int count = buffer.getShort() & 0xFFFF;
        List<String> columns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            buffer.get(); // flags: part of the key
            columns.add(string(buffer));
            buffer.getInt(); // type oid
            buffer.getInt(); // type modifier
        }
        return new Relation(id, namespace, name, List.copyOf(columns));
    }

    private static Insert insert(ByteBuffer buffer) {
        int relation = buffer.getInt();
        char kind = (char) buffer.get();
        if (kind != 'N') {
            throw new IllegalStateException("pgoutput INSERT without a new tuple (got '" + kind + "')");
        }
        int count = buffer.getShort() & 0xFFFF;
        byte[][] values = new byte[count][];
        boolean[] binary = new boolean[count];
        for (int i = 0; i < count; i++) {
            char format = (char) buffer.get();
            switch (format) {
                case 'n', 'u' -> values[i] = null;
                case 't', 'b' -> {
                    values[i] = new byte[buffer.getInt()];
                    buffer.get(values[i]);
                    binary[i] = format == 'b';
                }
                default -> throw new IllegalStateException("pgoutput tuple column of unknown format '" + format + "'");
            }
        }
        return new Insert(relation, values, binary);
    }

    private static String string(ByteBuffer buffer) {
        int start = buffer.position();
        int end = start;
        while (buffer.get(end) != 0) {
            end++;
        }
        String s = new String(buffer.array(), buffer.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
        buffer.position(end + 1);
        return s;
    }

    // ---- column values ---------------------------------------------------------------------------

    public static String text(Insert row, int column) {
        byte[] v = row.values()[column];
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** A BIGINT: eight bytes in binary format, decimal digits in text format. */
    public static long int8(Insert row, int column) {
        byte[] v = row.values()[column];
        if (v == null) {
            throw new IllegalStateException("column " + column + " is NULL");
        }
        if (!row.binary()[column]) {
            return Long.parseLong(new String(v, StandardCharsets.US_ASCII));
        }
        return ByteBuffer.wrap(v).getLong();
    }

    /** A BYTEA: the raw bytes in binary format, {@code \x<hex>} in text format. */
    public static byte[] bytea(Insert row, int column) {
        byte[] v = row.values()[column];
        if (v == null || row.binary()[column]) {
            return v;
        }
        if (v.length < 2 || v[0] != '\\' || v[1] != 'x') {
            throw new IllegalStateException("bytea column " + column + " is not in hex format");
        }
        byte[] out = new byte[(v.length - 2) / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (Character.digit(v[2 + 2 * i], 16) << 4 | Character.digit(v[3 + 2 * i], 16));
        }
        return out;
    }
}
