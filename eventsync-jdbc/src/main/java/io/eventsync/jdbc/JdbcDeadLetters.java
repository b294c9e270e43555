package io.eventsync.jdbc;

import io.eventsync.handler.DeadLetter;
import io.eventsync.handler.DeadLetterStore;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Dead letters in the consumer's own database ({@code eventsync_dead_letters}). {@link #add} commits
 * before it returns (the dispatcher acknowledges the event right after), letters of a key keep the
 * order in which they were added ({@code seq}), and {@link #update} keeps a letter's place.
 *
 * <p>Listing, showing, replaying and discarding are done through the dispatcher
 * ({@code Dispatcher.replay/discard}), which reads and removes letters here.
 */
public final class JdbcDeadLetters implements DeadLetterStore {
    private static final String COLUMNS =
            "id, subscription, kind, seq, event_id, event_key, event_type, payload, reason, error_chain, attempts,"
            + " first_failure, last_failure, origin, parks_key";
    /** Columns an insert sets: {@code seq} comes from the database, so letters are ordered across processes. */
    private static final String INSERT_COLUMNS =
            "id, subscription, kind, event_id, event_key, event_type, payload, reason, error_chain, attempts,"
            + " first_failure, last_failure, origin, parks_key";

    private final DataSource dataSource;
    private final SchemaNames names;
    private volatile Tables tables;

    private JdbcDeadLetters(DataSource dataSource, SchemaNames names) {
        this.dataSource = dataSource;
        this.names = names;
    }

    /** Dead letters in the connection's schema, table {@code eventsync_dead_letters}. */
    public static JdbcDeadLetters create(DataSource dataSource) {
        return create(dataSource, SchemaNames.defaults());
    }

    /** Dead letters in the eventsync tables named by {@code names}. */
    public static JdbcDeadLetters create(DataSource dataSource, SchemaNames names) {
        return new JdbcDeadLetters(Objects.requireNonNull(dataSource, "dataSource"), Objects.requireNonNull(names, "names"));
    }

    @Override
    public void add(DeadLetter letter) {
        try (Connection c = Jdbc.connect(dataSource, "storing a dead letter")) {
            Tables t = tables(c);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.deadLetters() + " ("
                    + INSERT_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                bind(ps, letter);
                ps.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "storing dead letter " + letter.id() + " of event " + letter.eventId()
                    + " (subscription " + letter.subscription() + ")", table(), e);
        }
    }

    @Override
    public List<DeadLetter> list(String subscription) {
        return query("WHERE subscription = ? ORDER BY seq", subscription);
    }

    @Override
    public Optional<DeadLetter> get(String id) {
        return query("WHERE id = ?", id).stream().findFirst();
    }

    @Override
    public List<DeadLetter> byKey(String subscription, String key) {
        return query("WHERE subscription = ? AND " + keyColumn() + " = ? ORDER BY seq", subscription, key);
    }

    @Override
    public Set<String> keys(String subscription) {
        Set<String> keys = new LinkedHashSet<>();
        for (DeadLetter l : list(subscription)) {
            keys.add(l.key());
        }
        return keys;
    }

    @Override
    public boolean update(DeadLetter letter) {
        return write("UPDATE %s SET subscription = ?, kind = ?, event_id = ?, " + keyColumn() + " = ?, event_type = ?,"
                + " payload = ?, reason = ?, error_chain = ?, attempts = ?, first_failure = ?, last_failure = ?"
                + " WHERE id = ?", letter.id(), ps -> {
                    ps.setString(1, letter.subscription());
                    ps.setString(2, letter.kind().name());
                    ps.setString(3, letter.eventId().isEmpty() ? null : letter.eventId());
                    ps.setString(4, letter.key());
                    ps.setString(5, letter.type());
                    ps.setBytes(6, letter.bytes());
                    ps.setString(7, letter.reason());
                    ps.setString(8, joinChain(letter.errorChain()));
                    ps.setInt(9, letter.attempts());
                    ps.setTimestamp(10, Timestamp.from(letter.firstFailure()));
                    ps.setTimestamp(11, Timestamp.from(letter.lastFailure()));
                    ps.setString(12, letter.id());
                });
    }

    @Override
    public boolean remove(String id) {
        return write("DELETE FROM %s WHERE id = ?", id, ps -> ps.setString(1, id));
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private boolean write(String template, String id, Binder binder) {
        try (Connection c = Jdbc.connect(dataSource, "writing a dead letter")) {
            int n;
            try (PreparedStatement ps = c.prepareStatement(String.format(template, tables(c).deadLetters()))) {
                binder.bind(ps);
                n = ps.executeUpdate();
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
            return n > 0;
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "writing dead letter " + id, table(), e);
        }
    }

    private List<DeadLetter> query(String where, String... args) {
        try (Connection c = Jdbc.connect(dataSource, "reading dead letters")) {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + tables(c).deadLetters()
                    + " " + where)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setString(i + 1, args[i]);
                }
                List<DeadLetter> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(read(rs));
                    }
                }
                return out;
            }
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "reading dead letters", table(), e);
        }
    }

    private static void bind(PreparedStatement ps, DeadLetter l) throws SQLException {
        ps.setString(1, l.id());
        ps.setString(2, l.subscription());
        ps.setString(3, l.kind().name());
        ps.setString(4, l.eventId().isEmpty() ? null : l.eventId()); // NULL: undecodable letters never collide
        ps.setString(5, l.key());
        ps.setString(6, l.type());
        ps.setBytes(7, l.bytes());
        ps.setString(8, l.reason());
        ps.setString(9, joinChain(l.errorChain()));
        ps.setInt(10, l.attempts());
        ps.setTimestamp(11, Timestamp.from(l.firstFailure()));
        ps.setTimestamp(12, Timestamp.from(l.lastFailure()));
        ps.setString(13, l.origin());
        ps.setInt(14, l.parksKey() ? 1 : 0);
    }

    private static DeadLetter read(ResultSet rs) throws SQLException {
        return new DeadLetter(rs.getString(1), rs.getString(2), DeadLetter.Kind.valueOf(rs.getString(3)),
                nullToEmpty(rs.getString(5)), nullToEmpty(rs.getString(6)), nullToEmpty(rs.getString(7)),
                rs.getBytes(8), rs.getString(9), splitChain(rs.getString(10)), rs.getInt(11),
                rs.getTimestamp(12).toInstant(), rs.getTimestamp(13).toInstant(), nullToEmpty(rs.getString(14)),
                rs.getInt(15) != 0);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    /** The chain is stored as lines; a newline inside a message is escaped so lines stay one per message. */
    static String joinChain(List<String> chain) {
        StringBuilder sb = new StringBuilder();
        for (String m : chain) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(String.valueOf(m).replace("\\", "\\\\").replace("\n", "\\n"));
        }
        return sb.toString();
    }

    static List<String> splitChain(String stored) {
        if (stored == null || stored.isEmpty()) {
            return List.of();
        }
        return Arrays.stream(stored.split("\n", -1))
                .map(s -> s.replace("\\n", "\n").replace("\\\\", "\\"))
                .toList();
    }

    private static String keyColumn() {
        return "event_key";
    }

    /** The table's name for messages: qualified once known, else as configured. */
    private String table() {
        Tables t = tables;
        return t != null ? t.deadLetters() : names.prefix() + "dead_letters";
    }

    private Tables tables(Connection c) throws SQLException {
        Tables t = tables;
        if (t == null) {
            t = Tables.resolve(c, names);
            tables = t;
        }
        return t;
    }
}
