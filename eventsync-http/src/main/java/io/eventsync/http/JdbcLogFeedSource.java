package io.eventsync.http;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.http.internal.HeadWatch;
import io.eventsync.jdbc.SchemaNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Reads the embedded log ({@code <prefix>log} and {@code <prefix>log_head}, installed by
 * eventsync-jdbc's schema) of the source database.
 *
 * <p>Why reading by offset is safe: the relay assigns offsets under the lock of the topic's head row
 * and holds it until commit, so offset n+1 cannot become visible before offset n; a reader that asks
 * for {@code log_offset >= from} never skips a row that commits later.
 *
 * <p>Long polls wait on a {@link HeadWatch}: one thread reads the heads of awaited topics with
 * adaptive back-off (1 ms doubling to {@code maxPollInterval}); call {@link #wake()} from an
 * in-process commit signal (a relay in the same JVM) to make waiting polls return at once.
 */
public final class JdbcLogFeedSource implements FeedSource, AutoCloseable {
    private final DataSource dataSource;
    private final String readSql;
    private final String rangeSql;
    private final String headSql;
    private final HeadWatch watch;

    private JdbcLogFeedSource(Builder b) {
        this.dataSource = b.dataSource;
        String log = table(b, "log");
        String head = table(b, "log_head");
        // Column names follow eventsync-jdbc's V1 schema (identifiers validated by SchemaNames).
        this.readSql = "SELECT log_offset, payload FROM " + log + " WHERE topic = ? AND log_offset >= ? ORDER BY log_offset LIMIT ?";
        this.rangeSql = "SELECT h.next_offset, (SELECT MIN(l.log_offset) FROM " + log + " l WHERE l.topic = h.topic)"
                + " FROM " + head + " h WHERE h.topic = ?";
        this.headSql = "SELECT next_offset FROM " + head + " WHERE topic = ?";
        this.watch = new HeadWatch(b.name, this::head, Duration.ofMillis(1), b.maxPollInterval);
    }

    public static Builder builder(DataSource dataSource) {
        return new Builder(dataSource);
    }

    @Override
    public List<LogRecord> read(String topic, long from, int limit) {
        try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(readSql)) {
            st.setString(1, topic);
            st.setLong(2, from);
            st.setInt(3, limit);
            List<LogRecord> records = new ArrayList<>();
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    records.add(new LogRecord(rs.getLong(1), rs.getBytes(2)));
                }
            }
            return records;
        } catch (SQLException e) {
            throw new EventsyncException("reading log topic " + topic + " from offset " + from + " failed (SQLState "
                    + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    @Override
    public LogRange range(String topic) {
        try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(rangeSql)) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return LogRange.EMPTY;
                }
                long head = rs.getLong(1);
                long oldest = rs.getLong(2);
                return new LogRange(rs.wasNull() ? head : oldest, head);
            }
        } catch (SQLException e) {
            throw new EventsyncException("reading the range of log topic " + topic + " failed (SQLState "
                    + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private long head(String topic) {
        try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(headSql)) {
            st.setString(1, topic);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new EventsyncException("reading the head of log topic " + topic + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean await(String topic, long from, Duration timeout) throws InterruptedException {
        return watch.await(topic, from, timeout);
    }

    /** An entry was appended (call from the relay's commit signal): waiting long polls look at once. */
    public void wake() {
        watch.wake();
    }

    @Override
    public void close() {
        watch.close();
    }

    private static String table(Builder b, String name) {
        String q = b.quote;
        String table = q + b.names.prefix() + name + q;
        return b.names.schema() == null ? table : q + b.names.schema() + q + "." + table;
    }

    public static final class Builder {
        private final DataSource dataSource;
        private SchemaNames names = SchemaNames.defaults();
        private String name = "log";
        private String quote;
        private Duration maxPollInterval = Duration.ofMillis(50);

        private Builder(DataSource dataSource) {
            this.dataSource = dataSource;
        }

        /** Schema and prefix of the log tables, as given to eventsync-jdbc; default current schema, {@code eventsync_}. */
        public Builder names(SchemaNames names) { this.names = names; return this; }
        /** Names the watcher thread ({@code eventsync-http-headwatch-<name>}). */
        public Builder name(String name) { this.name = name; return this; }
        /** Longest interval between head reads while long polls wait and nothing changes; default 50 ms. */
        public Builder maxPollInterval(Duration interval) { this.maxPollInterval = interval; return this; }

        public JdbcLogFeedSource build() {
            if (dataSource == null) {
                throw new ConfigException("dataSource is required: the source database holding the embedded log");
            }
            if (names == null) {
                throw new ConfigException("names must not be null");
            }
            if (maxPollInterval.isNegative() || maxPollInterval.isZero() || maxPollInterval.toMillis() > 10_000) {
                throw new ConfigException("maxPollInterval must be between 1 ms and 10 s but was: " + maxPollInterval);
            }
            quote = quoteFor(dataSource);
            return new JdbcLogFeedSource(this);
        }

        /** eventsync-jdbc quotes its identifiers: ANSI double quotes, backticks on MariaDB/MySQL. */
        private static String quoteFor(DataSource dataSource) {
            try (Connection c = dataSource.getConnection()) {
                String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
                return product.contains("mariadb") || product.contains("mysql") ? "`" : "\"";
            } catch (SQLException e) {
                throw new EventsyncException("cannot connect to the source database to read its log: " + e.getMessage(), e);
            }
        }
    }
}
