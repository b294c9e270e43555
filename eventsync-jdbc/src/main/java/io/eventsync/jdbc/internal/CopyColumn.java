package io.eventsync.jdbc.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;

/**
 * One column of a copy table and where its value comes from: a payload field path (field-mask style,
 * {@code customer.id}) or the event's subject. Paths are checked against the payload descriptor when
 * the copy table is built and resolved by name at apply time, so generated classes and DynamicMessage
 * payloads of the same type both work.
 */
public record CopyColumn(String column, List<String> path, Kind valueKind, boolean fromSubject) {

    /** The SQL shape of a value. */
    public enum Kind { INT, LONG, BOOL, FLOAT, DOUBLE, STRING, BYTES, ENUM, TIMESTAMP }

    public static CopyColumn subject(String column) {
        return new CopyColumn(Identifiers.require("column", column), List.of(), Kind.STRING, true);
    }

    public static CopyColumn field(String column, String fieldPath, Descriptor payload) {
        Identifiers.require("column", column);
        if (fieldPath == null || fieldPath.isBlank()) {
            throw new ConfigException("field path of column " + column + " must not be empty, but was: " + fieldPath);
        }
        List<String> path = List.of(fieldPath.split("\\."));
        Descriptor d = payload;
        FieldDescriptor fd = null;
        for (int i = 0; i < path.size(); i++) {
            fd = d.findFieldByName(path.get(i));
            if (fd == null) {
                throw new ConfigException("field path '" + fieldPath + "' of column " + column + ": "
                        + d.getFullName() + " has no field '" + path.get(i) + "'");
            }
            if (fd.isRepeated()) {
                throw new ConfigException("field path '" + fieldPath + "' of column " + column
                        + " is a repeated/map field; only singular fields can be copied to a column");
            }
            boolean last = i == path.size() - 1;
            if (!last) {
                if (fd.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
                    throw new ConfigException("field path '" + fieldPath + "' of column " + column + ": '"
                            + path.get(i) + "' is not a message, so it has no field '" + path.get(i + 1) + "'");
                }
                d = fd.getMessageType();
            }
        }
        return new CopyColumn(column, path, kindOf(fd, fieldPath, column), false);
    }

    private static Kind kindOf(FieldDescriptor fd, String fieldPath, String column) {
        return switch (fd.getType()) {
            case INT32, SINT32, SFIXED32 -> Kind.INT;
            case INT64, SINT64, SFIXED64, UINT32, FIXED32, UINT64, FIXED64 -> Kind.LONG;
            case BOOL -> Kind.BOOL;
            case FLOAT -> Kind.FLOAT;
            case DOUBLE -> Kind.DOUBLE;
            case STRING -> Kind.STRING;
            case BYTES -> Kind.BYTES;
            case ENUM -> Kind.ENUM;
            case MESSAGE -> {
                if (fd.getMessageType().getFullName().equals("google.protobuf.Timestamp")) {
                    yield Kind.TIMESTAMP;
                }
                throw new ConfigException("field path '" + fieldPath + "' of column " + column + " is a message ("
                        + fd.getMessageType().getFullName() + "); map its scalar fields instead, e.g. '"
                        + fieldPath + "." + fd.getMessageType().getFields().get(0).getName() + "'");
            }
            default -> throw new ConfigException("field path '" + fieldPath + "' of column " + column
                    + " has unsupported type " + fd.getType());
        };
    }

    /** The column's SQL type; keys get bounded strings so every dialect can index them. */
    public String sqlType(Dialect dialect, boolean key) {
        String d = dialect.name();
        return switch (valueKind) {
            case INT -> "INTEGER";
            case LONG -> "BIGINT";
            case BOOL -> "BOOLEAN";
            case FLOAT -> "REAL";
            case DOUBLE -> d.equals("mariadb") ? "DOUBLE" : "DOUBLE PRECISION";
            case STRING -> key ? "VARCHAR(255)" : d.equals("h2") ? "VARCHAR" : "TEXT";
            case BYTES -> switch (d) {
                case "postgresql" -> "BYTEA";
                case "mariadb" -> key ? "VARBINARY(255)" : "LONGBLOB";
                default -> "VARBINARY";
            };
            case ENUM -> "VARCHAR(255)";
            case TIMESTAMP -> switch (d) {
                case "postgresql" -> "TIMESTAMPTZ";
                case "mariadb" -> "DATETIME(6)";
                default -> "TIMESTAMP(6) WITH TIME ZONE";
            };
        };
    }

    /** The value for this column from the event. */
    public Object value(Message payload, String subject) {
        if (fromSubject) {
            return subject;
        }
        Message m = payload;
        for (int i = 0; i < path.size(); i++) {
            FieldDescriptor fd = m.getDescriptorForType().findFieldByName(path.get(i));
            if (fd == null) {
                throw new PermanentException("payload " + m.getDescriptorForType().getFullName() + " has no field '"
                        + path.get(i) + "' (column " + column + ")");
            }
            Object v = m.getField(fd);
            if (i < path.size() - 1) {
                m = (Message) v;
            } else {
                return convert(fd, v);
            }
        }
        throw new IllegalStateException("empty path of column " + column);
    }

    private Object convert(FieldDescriptor fd, Object v) {
        return switch (valueKind) {
            case BYTES -> ((ByteString) v).toByteArray();
            case ENUM -> ((EnumValueDescriptor) v).getName();
            case LONG -> (fd.getType() == FieldDescriptor.Type.UINT32 || fd.getType() == FieldDescriptor.Type.FIXED32)
                    ? Integer.toUnsignedLong((Integer) v) : v;
            case TIMESTAMP -> timestamp((Message) v);
            default -> v;
        };
    }

    private static Timestamp timestamp(Message ts) {
        Descriptor d = ts.getDescriptorForType();
        long seconds = (Long) ts.getField(d.findFieldByName("seconds"));
        int nanos = (Integer) ts.getField(d.findFieldByName("nanos"));
        return Timestamp.from(Instant.ofEpochSecond(seconds, nanos));
    }

    public void bind(PreparedStatement ps, int index, Object value) throws SQLException {
        if (value == null) {
            ps.setNull(index, Types.NULL);
            return;
        }
        switch (valueKind) {
            case INT -> ps.setInt(index, (Integer) value);
            case LONG -> ps.setLong(index, (Long) value);
            case BOOL -> ps.setBoolean(index, (Boolean) value);
            case FLOAT -> ps.setFloat(index, (Float) value);
            case DOUBLE -> ps.setDouble(index, (Double) value);
            case STRING, ENUM -> ps.setString(index, (String) value);
            case BYTES -> ps.setBytes(index, (byte[]) value);
            case TIMESTAMP -> ps.setTimestamp(index, (Timestamp) value);
        }
    }
}
