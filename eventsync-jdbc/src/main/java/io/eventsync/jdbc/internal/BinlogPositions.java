package io.eventsync.jdbc.internal;

import io.eventsync.ConfigException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;

/**
 * The binlog relay's statements on the source (MariaDB/MySQL): the stored confirmed position, the
 * bulk delete of relayed outbox rows, freshness marks, and what the server's binlog is set to. SQL for
 * one dialect only, so it lives here rather than in {@link Dialect}.
 */
public final class BinlogPositions {
    /** Outbox rows deleted per statement; a confirm deletes its range in as few statements as this allows. */
    public static final int DELETE_CHUNK = 1000;

    private BinlogPositions() {}

    /**
     * Refuses a server whose binlog cannot carry row events to this relay, naming the setting to change.
     */
    public static void requireRowBinlog(Connection c, String url) throws SQLException {
        if (Dialect.of(c) != Dialect.MARIADB) {
            throw new ConfigException("the binlog relay needs MariaDB or MySQL, but " + url + " is "
                    + c.getMetaData().getDatabaseProductName() + "; use the query relay (Relay) there, or the WAL relay on PostgreSQL");
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new ConfigException("the binlog relay needs the binary log, but the server at " + url
                        + " runs with log_bin=OFF; start it with log_bin (--log-bin) and binlog_format=ROW"
                        + " (my.cnf, restart), or use the query relay (relay.mode: query)");
            }
            String format = rs.getString(2);
            if (!"ROW".equalsIgnoreCase(format)) {
                throw new ConfigException("the binlog relay needs binlog_format=ROW, but the server at " + url
                        + " has binlog_format=" + format + "; set binlog_format=ROW in my.cnf (or SET GLOBAL"
                        + " binlog_format=ROW, for new sessions), or use the query relay (relay.mode: query)");
            }
        }
    }

    /** The position stored for {@code source}; empty before the first {@link #begin}. */
    public static Optional<BinlogPosition> load(Connection c, Tables t, String source) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT binlog_file, binlog_pos FROM " + t.table("binlog_position")
                + " WHERE source = ?")) {
            ps.setString(1, source);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new BinlogPosition(rs.getString(1), rs.getLong(2))) : Optional.empty();
            }
        }
    }

    /** The server's current end of the binlog (autocommit); needs BINLOG MONITOR / REPLICATION CLIENT. */
    public static BinlogPosition end(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
            if (!rs.next()) {
                throw new ConfigException("SHOW MASTER STATUS returned nothing: the binary log is off (log_bin)");
            }
            return new BinlogPosition(rs.getString(1), rs.getLong(2));
        }
    }

    /** Stores {@code position} for {@code source} unless one is stored; true when it did (autocommit). */
    public static boolean insertIfAbsent(Connection c, Tables t, String source, BinlogPosition position) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT IGNORE INTO " + t.table("binlog_position")
                + " (source, binlog_file, binlog_pos, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))")) {
            ps.setString(1, source);
            ps.setString(2, position.file());
            ps.setLong(3, position.offset());
            return ps.executeUpdate() == 1;
        }
    }

    /**
     * In the relay's fenced transaction: moves the stored position forward to {@code position} (never
     * back: a position stored by a later epoch stays).
     */
    public static void advance(Connection c, Tables t, String source, BinlogPosition position) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.table("binlog_position")
                + " SET binlog_file = ?, binlog_pos = ?, updated_at = UTC_TIMESTAMP(6) WHERE source = ?")) {
            ps.setString(1, position.file());
            ps.setLong(2, position.offset());
            ps.setString(3, source);
            if (ps.executeUpdate() != 1) {
                throw new ConfigException("no binlog position of source " + source + " in " + t.name("binlog_position")
                        + " to advance; it was deleted while the relay ran");
            }
        }
    }

    /**
     * In the relay's fenced transaction: deletes relayed outbox rows by id, {@link #DELETE_CHUNK} per
     * statement. By primary key only, so it locks exactly those (committed) rows and no gap a writer's
     * insert would wait for.
     */
    public static int deleteRelayed(Connection c, Tables t, List<Long> ids) throws SQLException {
        int deleted = 0;
        for (int from = 0; from < ids.size(); from += DELETE_CHUNK) {
            List<Long> chunk = ids.subList(from, Math.min(ids.size(), from + DELETE_CHUNK));
            StringBuilder sql = new StringBuilder("DELETE FROM ").append(t.outbox()).append(" WHERE id IN (");
            for (int i = 0; i < chunk.size(); i++) {
                sql.append(i == 0 ? "?" : ",?");
            }
            try (PreparedStatement ps = c.prepareStatement(sql.append(')').toString())) {
                for (int i = 0; i < chunk.size(); i++) {
                    ps.setLong(i + 1, chunk.get(i));
                }
                deleted += ps.executeUpdate();
            }
        }
        return deleted;
    }

    /**
     * A freshness mark (autocommit): the database clock, read by the statement before it commits, into
     * the source's mark row; the row event lands in the binlog after every transaction committed before it.
     */
    public static void mark(Connection c, Tables t, String source) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.table("binlog_mark") + " (source, marked_micros)"
                + " VALUES (?, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED))"
                + " ON DUPLICATE KEY UPDATE marked_micros = VALUES(marked_micros)")) {
            ps.setString(1, source);
            ps.executeUpdate();
        }
    }

    /** Zero-based positions of {@code columns} in {@code table} (rows events carry values by position). */
    public static int[] columns(Connection c, Tables t, String table, String... columns) throws SQLException {
        int[] positions = new int[columns.length];
        try (PreparedStatement ps = c.prepareStatement("SELECT ORDINAL_POSITION FROM information_schema.COLUMNS"
                + " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?")) {
            for (int i = 0; i < columns.length; i++) {
                ps.setString(1, t.schema());
                ps.setString(2, t.prefix() + table);
                ps.setString(3, columns[i]);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ConfigException("table " + t.name(table) + " has no column " + columns[i]
                                + "; install the eventsync schema (EventsyncSchema.install) in " + t.schema());
                    }
                    positions[i] = rs.getInt(1) - 1;
                }
            }
        }
        return positions;
    }
}
