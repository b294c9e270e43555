package io.eventsync.jdbc;

import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.RawRecord;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Writes log entries with plain SQL, as a writer that is not eventsync's (another language, a script)
 * would: under the topic's head-row lock, one transaction per entry, with the record's key in
 * {@code event_key} and its value as the payload, so offsets stay gapless. The log's own extras in
 * {@link RawRecord#metadata()}: {@value #EVENT_KEY} overrides the key column. Shared through the test-jar
 * (the HTTP feed serves the same table).
 */
public final class RawLogWriter implements HostileInputContract.RawWriter {
    /** Metadata: the exact {@code event_key} to write (else the record's key, or '' when it has none). */
    public static final String EVENT_KEY = "event_key";

    private final DataSource dataSource;
    private final String topic;
    private final String log;
    private final String head;

    public RawLogWriter(TestDatabase db, String topic) {
        this.dataSource = db.dataSource();
        this.topic = topic;
        this.log = table(db, "log");
        this.head = table(db, "log_head");
        execute("INSERT INTO " + head + " (topic, next_offset) VALUES (?, 0)", topic);
    }

    private static String table(TestDatabase db, String suffix) {
        String name = db.names().prefix() + suffix;
        return db.kind() == TestDatabase.Kind.MARIADB ? "`" + name + "`" : "\"" + name + "\"";
    }

    @Override
    public void write(RawRecord record) throws SQLException {
        Object key = record.metadata().getOrDefault(EVENT_KEY, record.key() == null ? "" : record.key());
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            long offset;
            try (PreparedStatement ps = c.prepareStatement("SELECT next_offset FROM " + head + " WHERE topic = ? FOR UPDATE")) {
                ps.setString(1, topic);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    offset = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + log
                    + " (topic, log_offset, event_key, event_id, payload, created_at) VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP)")) {
                ps.setString(1, topic);
                ps.setLong(2, offset);
                ps.setString(3, (String) key);
                ps.setString(4, eventId(record.value()));
                ps.setBytes(5, record.value());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + head + " SET next_offset = ? WHERE topic = ?")) {
                ps.setLong(1, offset + 1);
                ps.setString(2, topic);
                ps.executeUpdate();
            }
            c.commit();
        }
    }

    /** The id column as a writer would fill it: the envelope's id when it has a clean one, else ''. */
    private static String eventId(byte[] value) {
        try {
            String id = Envelope.parseFrom(value).getId();
            return id.length() <= 64 && id.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f) ? id : "";
        } catch (Exception | StackOverflowError e) {
            return "";
        }
    }

    /** The offset the log assigns next: every entry written so far is below it. */
    public long head() throws SQLException {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT next_offset FROM " + head + " WHERE topic = ?")) {
            ps.setString(1, topic);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Override
    public void flush() {
        // Every write committed on its own.
    }

    @Override
    public void close() {
    }

    private void execute(String sql, String param) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(sql, e);
        }
    }
}
