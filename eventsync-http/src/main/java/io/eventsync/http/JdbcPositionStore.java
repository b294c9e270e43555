package io.eventsync.http;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Keeps feed positions in the copy's database, in eventsync-jdbc's {@code <prefix>offsets} table
 * (one row per group, topic and partition; the HTTP feed uses partition {@value #PARTITION}).
 */
public final class JdbcPositionStore implements PositionStore {
    /** The log_partition value of HTTP feed positions. */
    public static final String PARTITION = "http";
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,47}");

    private final DataSource dataSource;
    private final String select;
    private final String update;
    private final String insert;

    /** Uses {@code eventsync_offsets} in the connection's current schema. */
    public JdbcPositionStore(DataSource dataSource) {
        this(dataSource, null, "eventsync_");
    }

    public JdbcPositionStore(DataSource dataSource, String schema, String prefix) {
        if (schema != null && !IDENTIFIER.matcher(schema).matches()) {
            throw new ConfigException("schema must match " + IDENTIFIER.pattern() + " but was: " + schema);
        }
        if (prefix == null || !(prefix.isEmpty() || IDENTIFIER.matcher(prefix).matches())) {
            throw new ConfigException("prefix must be empty or match " + IDENTIFIER.pattern() + " but was: " + prefix);
        }
        this.dataSource = dataSource;
        String q = quote(dataSource);
        String table = (schema == null ? "" : q + schema + q + ".") + q + prefix + "offsets" + q;
        String where = " WHERE consumer_group = ? AND topic = ? AND log_partition = '" + PARTITION + "'";
        this.select = "SELECT next_offset FROM " + table + where;
        // Monotonic: a late save of an older position (a racing close) can never move it back.
        this.update = "UPDATE " + table + " SET next_offset = ?, updated_at = CURRENT_TIMESTAMP" + where + " AND next_offset < ?";
        this.insert = "INSERT INTO " + table + " (consumer_group, topic, log_partition, next_offset) VALUES (?, ?, '" + PARTITION + "', ?)";
    }

    @Override
    public OptionalLong load(String group, String topic) {
        try (Connection c = dataSource.getConnection(); PreparedStatement st = c.prepareStatement(select)) {
            st.setString(1, group);
            st.setString(2, topic);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
            }
        } catch (SQLException e) {
            throw new EventsyncException("loading the feed position of group " + group + " on topic " + topic
                    + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    @Override
    public void save(String group, String topic, long next) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement st = c.prepareStatement(update)) {
                st.setLong(1, next);
                st.setString(2, group);
                st.setString(3, topic);
                st.setLong(4, next);
                if (st.executeUpdate() == 1) {
                    return;
                }
            }
            if (load(group, topic).isPresent()) {
                return; // already at or beyond next
            }
            try (PreparedStatement st = c.prepareStatement(insert)) {
                st.setString(1, group);
                st.setString(2, topic);
                st.setLong(3, next);
                st.executeUpdate();
            }
        } catch (SQLException e) {
            throw new EventsyncException("saving feed position " + next + " of group " + group + " on topic " + topic
                    + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private static String quote(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
            return product.contains("mariadb") || product.contains("mysql") ? "`" : "\"";
        } catch (SQLException e) {
            throw new EventsyncException("cannot connect to the copy database to keep feed positions: " + e.getMessage(), e);
        }
    }
}
