package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The relay dead letters of an outbox ({@code eventsync_outbox_dead_letters}), in the source's
 * database: rows the relay moved there because no transport would take them. While a key has one,
 * the relay sends none of the key's later rows.
 *
 * <p>Releasing a letter works from any process while the relay runs (it is what
 * {@code eventsync dlq replay|discard --outbox} does): {@link #replay} moves the row back into the
 * outbox under its own id, the front of its key, so it is sent again before the rows that waited;
 * {@link #discard} drops it and the waiting rows follow. Each is one transaction, and the relay's
 * batch query sees the letter or the row, never neither.
 *
 * <p>Letters the {@link WalRelay} kept (their reason begins with {@code [WAL relay]}) did not park their
 * key: that relay goes on past a refused event. Replaying one writes it into the WAL again (inserted
 * into the outbox table, which the relay's publication covers, and deleted in the same transaction), so
 * the WAL relay sends it after the events of its key that were written meanwhile; discarding drops it.
 */
public final class OutboxDeadLetters {
    private final DataSource dataSource;
    private final SchemaNames names;
    private volatile Tables tables;

    private OutboxDeadLetters(DataSource dataSource, SchemaNames names) {
        this.dataSource = dataSource;
        this.names = names;
    }

    /** The relay dead letters in the eventsync tables named by {@code names}. */
    public static OutboxDeadLetters create(DataSource dataSource, SchemaNames names) {
        return new OutboxDeadLetters(Objects.requireNonNull(dataSource, "dataSource"), Objects.requireNonNull(names, "names"));
    }

    /** Letters in the connection's schema, tables prefixed {@code eventsync_}. */
    public static OutboxDeadLetters create(DataSource dataSource) {
        return create(dataSource, SchemaNames.defaults());
    }

    /** The letters of {@code source}, oldest position first. */
    public List<OutboxDeadLetter> list(String source) {
        return query(source, null);
    }

    public Optional<OutboxDeadLetter> get(String source, long id) {
        return query(source, id).stream().findFirst();
    }

    /** How many letters (each parks one key) {@code source} has. */
    public long count(String source) {
        try (Connection c = Jdbc.connect(dataSource, "counting the relay dead letters of outbox " + source)) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement(t.dialect().countOutboxDeadLetters(t))) {
                ps.setString(1, source);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        } catch (SQLException e) {
            throw failure("counting the relay dead letters of outbox " + source, e);
        }
    }

    /**
     * Moves the letter's row back into the outbox under its own id, ahead of the rows of its key that
     * waited; the relay sends it again, then them.
     *
     * @throws ConfigException when {@code source} has no letter {@code id}
     */
    public void replay(String source, long id) {
        release(source, id, true);
    }

    /**
     * Drops the letter (its event is never sent); the rows of its key that waited are sent in order.
     *
     * @throws ConfigException when {@code source} has no letter {@code id}
     */
    public void discard(String source, long id) {
        release(source, id, false);
    }

    private void release(String source, long id, boolean replay) {
        String what = (replay ? "replaying" : "discarding") + " relay dead letter " + id + " of outbox " + source;
        try (Connection c = Jdbc.connect(dataSource, what)) {
            Tables t = tables(c);
            String url = c.getMetaData().getURL();
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                boolean wal = replay && keptByWalRelay(c, t, source, id);
                if (wal) {
                    requireWalReader(c, t, source, id);
                }
                if (replay) {
                    update(c, t.dialect().restoreOutboxDeadLetter(t), source, id);
                    if (wal) {
                        // The WAL relay reads the insert from the WAL; the table stays as it was.
                        try (PreparedStatement ps = c.prepareStatement(t.dialect().deleteOutboxRow(t))) {
                            ps.setLong(1, id);
                            ps.executeUpdate();
                        }
                    }
                }
                if (update(c, t.dialect().deleteOutboxDeadLetter(t), source, id) == 0) {
                    c.rollback();
                    throw new ConfigException("outbox " + source + " has no relay dead letter " + id
                            + "; see: eventsync dlq list --outbox " + source);
                }
                notifyRelay(c, t, source);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                Jdbc.rollbackQuietly(c, e);
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
            Outbox.signal(url, t, source).signal();
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Wakes an idle relay: on PostgreSQL by NOTIFY (delivered at commit), like a writer does. */
    private static void notifyRelay(Connection c, Tables t, String source) throws SQLException {
        if (!t.dialect().supportsNotify()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(t.dialect().notifySql())) {
            ps.setString(1, Outbox.channel(t, source));
            ps.execute();
        }
    }

    private static boolean keptByWalRelay(Connection c, Tables t, String source, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.dialect().selectOutboxDeadLetters(t, true))) {
            ps.setString(1, source);
            ps.setLong(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getString(7).startsWith(WalSlot.DEAD_LETTER_MARK);
            }
        }
    }

    /**
     * A WAL relay letter is replayed into the WAL only: unless a publication covers the outbox table and
     * a pgoutput slot exists in this database, no relay would ever read it, and it would be lost.
     */
    private static void requireWalReader(Connection c, Tables t, String source, long id) throws SQLException {
        boolean published;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM pg_publication_tables WHERE schemaname = ? AND tablename = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.prefix() + "outbox");
            try (ResultSet rs = ps.executeQuery()) {
                published = rs.next();
            }
        }
        boolean slot;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE database ="
                + " current_database() AND plugin = 'pgoutput'")) {
            try (ResultSet rs = ps.executeQuery()) {
                slot = rs.next();
            }
        }
        if (!published || !slot) {
            throw new ConfigException("relay dead letter " + id + " of outbox " + source + " was kept by the WAL relay and"
                    + " is replayed into the WAL, but " + (published ? "this database has no pgoutput replication slot"
                    : "no publication covers " + t.outboxName()) + ", so no WAL relay would read it; nothing was"
                    + " changed (start the WAL relay with its publication and slot, or discard the letter)");
        }
    }

    private static int update(Connection c, String sql, String source, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, source);
            ps.setLong(2, id);
            return ps.executeUpdate();
        }
    }

    private List<OutboxDeadLetter> query(String source, Long id) {
        try (Connection c = Jdbc.connect(dataSource, "reading the relay dead letters of outbox " + source)) {
            Tables t = tables(c);
            List<OutboxDeadLetter> letters = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(t.dialect().selectOutboxDeadLetters(t, id != null))) {
                ps.setString(1, source);
                if (id != null) {
                    ps.setLong(2, id);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        letters.add(new OutboxDeadLetter(rs.getLong(1), source, rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getLong(5), rs.getBytes(6), rs.getString(7), rs.getInt(8),
                                t.dialect().instant(rs, 9), t.dialect().instant(rs, 10)));
                    }
                }
            }
            return letters;
        } catch (SQLException e) {
            throw failure("reading the relay dead letters of outbox " + source, e);
        }
    }

    private Tables tables(Connection c) throws SQLException {
        Tables t = tables;
        if (t == null) {
            t = Tables.resolve(c, names);
            tables = t;
        }
        return t;
    }

    private RuntimeException failure(String what, SQLException e) {
        Tables t = tables;
        return Jdbc.failure(t, what, t == null ? names.prefix() + "outbox_dead_letters"
                : t.schema() + "." + t.prefix() + "outbox_dead_letters", e);
    }
}
