package io.eventsync.jdbc;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Dead letters in the consumer's own database ({@code eventsync_dead_letters}), shared by every
 * instance of a subscription: which keys are parked is read here, never from a process's memory.
 *
 * <ul>
 *   <li>{@link #add} commits before it returns (the dispatcher acknowledges the event right after) and
 *       stores one letter per (subscription, event id): a unique index makes a second instance's or a
 *       redelivery's letter find the first one instead of adding another.</li>
 *   <li>Letters are ordered by {@code seq}, an identity column the database assigns, so letters written
 *       by different processes keep the order in which they were written; {@link #update} keeps it.</li>
 *   <li>{@link #holdIfParked} checks that the key is parked and writes the HELD letter in one statement.</li>
 *   <li>Text columns are made safe for the database (no NUL, valid UTF-16 for any charset, bounded
 *       length); the letter's bytes keep the record exactly as received. Keys are made safe the same way
 *       on every read and write, so a key with such characters still matches its letters.</li>
 * </ul>
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
    private static final String PLACEHOLDERS = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
    /** Column sizes of the DDL (characters). */
    private static final int ID_CHARS = 64;
    private static final int SUBSCRIPTION_CHARS = 200;
    private static final int KEY_CHARS = 500;
    /** Bound on free text (reason, error chain, origin), so one letter cannot grow without limit. */
    private static final int TEXT_CHARS = 16_000;

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

    DataSource dataSource() {
        return dataSource;
    }

    @Override
    public DeadLetter add(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        try (Connection c = Jdbc.connect(dataSource, "storing a dead letter")) {
            Tables t = tables(c);
            if (letter.eventId().isEmpty() && !letter.origin().isEmpty()) {
                Optional<DeadLetter> same = byOrigin(c, t, letter);
                if (same.isPresent()) {
                    return merge(c, t, same.get(), letter);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.deadLetters() + " (" + INSERT_COLUMNS
                    + ") VALUES (" + PLACEHOLDERS + ")")) {
                bind(ps, letter);
                ps.executeUpdate();
                commit(c);
                return letter;
            } catch (SQLException e) {
                if (letter.eventId().isEmpty() || !t.dialect().isDuplicateKey(e)) {
                    throw e;
                }
                rollback(c);
            }
            DeadLetter existing = byEvent(c, t, letter.subscription(), letter.eventId()).orElseThrow(() ->
                    new SQLException("dead letter of event " + letter.eventId() + " was removed while adding one"));
            return merge(c, t, existing, letter);
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "storing dead letter " + letter.id() + " of event " + letter.eventId()
                    + " (subscription " + letter.subscription() + ")", table(), e);
        }
    }

    /** The event already has {@code existing}: a HELD letter changes nothing, a FAILED one updates it in place. */
    private DeadLetter merge(Connection c, Tables t, DeadLetter existing, DeadLetter letter) throws SQLException {
        if (letter.kind() == DeadLetter.Kind.HELD) {
            return existing;
        }
        DeadLetter merged = new DeadLetter(existing.id(), existing.subscription(), DeadLetter.Kind.FAILED,
                existing.eventId(), existing.key(), existing.type(), existing.bytes(), letter.reason(),
                letter.errorChain(), existing.attempts() + letter.attempts(), existing.firstFailure(),
                letter.lastFailure(), existing.origin().isEmpty() ? letter.origin() : existing.origin(),
                letter.parksKey());
        try (PreparedStatement ps = c.prepareStatement("UPDATE " + t.deadLetters() + " SET kind = ?, reason = ?,"
                + " error_chain = ?, attempts = attempts + ?, last_failure = ?, origin = ?, parks_key = ? WHERE id = ?")) {
            ps.setString(1, merged.kind().name());
            ps.setString(2, text(merged.reason()));
            ps.setString(3, text(joinChain(merged.errorChain())));
            ps.setInt(4, letter.attempts());
            ps.setTimestamp(5, Timestamp.from(merged.lastFailure()));
            ps.setString(6, text(merged.origin()));
            ps.setInt(7, merged.parksKey() ? 1 : 0);
            ps.setString(8, existing.id());
            ps.executeUpdate();
        }
        commit(c);
        return merged;
    }

    @Override
    public Optional<DeadLetter> holdIfParked(DeadLetter held) {
        Objects.requireNonNull(held, "held");
        try (Connection c = Jdbc.connect(dataSource, "holding an event behind its parked key")) {
            Tables t = tables(c);
            int inserted;
            // One statement: the HELD letter is written only while a parking letter of the key exists, so a
            // release that removed the key's last letter meanwhile (in any process) is never missed.
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + t.deadLetters() + " (" + INSERT_COLUMNS
                    + ") SELECT " + typedPlaceholders(t.dialect()) + fromDual(t.dialect())
                    + " WHERE EXISTS (SELECT 1 FROM " + t.deadLetters()
                    + " WHERE subscription = ? AND event_key = ? AND parks_key = 1)")) {
                bind(ps, held);
                ps.setString(15, text(held.subscription(), SUBSCRIPTION_CHARS));
                ps.setString(16, key(held.key()));
                inserted = ps.executeUpdate();
                commit(c);
            } catch (SQLException e) {
                if (held.eventId().isEmpty() || !t.dialect().isDuplicateKey(e)) {
                    throw e;
                }
                rollback(c);
                return byEvent(c, t, held.subscription(), held.eventId()); // the event already has its letter
            }
            return inserted > 0 ? Optional.of(held) : Optional.empty();
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "holding event " + held.eventId() + " of key " + held.key()
                    + " behind its dead letter (subscription " + held.subscription() + ")", table(), e);
        }
    }

    /** Bind parameters of the insert's SELECT list, typed where the database would not infer them. */
    private static String typedPlaceholders(Dialect dialect) {
        if (dialect == Dialect.MARIADB) {
            return PLACEHOLDERS;
        }
        String bytes = dialect == Dialect.POSTGRES ? "BYTEA" : "VARBINARY";
        String text = "CAST(? AS VARCHAR)";
        String time = "CAST(? AS TIMESTAMP WITH TIME ZONE)";
        return String.join(", ", text, text, text, text, text, text, "CAST(? AS " + bytes + ")", text, text,
                "CAST(? AS INT)", time, time, text, "CAST(? AS SMALLINT)");
    }

    private static String fromDual(Dialect dialect) {
        return dialect == Dialect.MARIADB ? " FROM DUAL" : "";
    }

    /**
     * True when {@code key} of {@code subscription} is parked, read on the caller's connection (inside
     * the caller's transaction): the apply scope asks this before it applies an event.
     */
    boolean isParked(Connection c, String subscription, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + tables(c).deadLetters()
                + " WHERE subscription = ? AND event_key = ? AND parks_key = 1")) {
            ps.setMaxRows(1);
            ps.setString(1, text(subscription, SUBSCRIPTION_CHARS));
            ps.setString(2, key(key));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** True when any of {@code keys} is parked on {@code subscription} (one query, on the caller's transaction). */
    boolean anyParked(Connection c, String subscription, List<String> keys) throws SQLException {
        if (keys.isEmpty()) {
            return false;
        }
        Tables t = tables(c);
        if (t.dialect().inProcess()) { // no round trips to save: one cached point query per key
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + t.deadLetters()
                    + " WHERE subscription = ? AND event_key = ? AND parks_key = 1")) {
                ps.setMaxRows(1);
                String sub = text(subscription, SUBSCRIPTION_CHARS);
                for (String k : keys) {
                    ps.setString(1, sub);
                    ps.setString(2, key(k));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            return true;
                        }
                    }
                }
                return false;
            }
        }
        // Always Inbox.LOOKUP_CHUNK keys (the last repeated), so the statement has one text.
        String sql = "SELECT 1 FROM " + t.deadLetters() + " WHERE subscription = ? AND parks_key = 1 AND event_key IN ("
                + String.join(", ", java.util.Collections.nCopies(Inbox.LOOKUP_CHUNK, "?")) + ")";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setQueryTimeout(Inbox.BATCH_STATEMENT_TIMEOUT_SECONDS);
            ps.setMaxRows(1);
            String sub = text(subscription, SUBSCRIPTION_CHARS);
            for (int from = 0; from < keys.size(); from += Inbox.LOOKUP_CHUNK) {
                int to = Math.min(keys.size(), from + Inbox.LOOKUP_CHUNK);
                ps.setString(1, sub);
                for (int i = 0; i < Inbox.LOOKUP_CHUNK; i++) {
                    ps.setString(i + 2, key(keys.get(Math.min(from + i, to - 1))));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    @Override
    public List<DeadLetter> list(String subscription) {
        return query("WHERE subscription = ? ORDER BY seq", text(subscription, SUBSCRIPTION_CHARS));
    }

    @Override
    public Optional<DeadLetter> get(String id) {
        return query("WHERE id = ?", id).stream().findFirst();
    }

    @Override
    public List<DeadLetter> byKey(String subscription, String key) {
        return query("WHERE subscription = ? AND event_key = ? ORDER BY seq", text(subscription, SUBSCRIPTION_CHARS),
                key(key));
    }

    @Override
    public Set<String> keys(String subscription) {
        return strings("SELECT DISTINCT event_key FROM %s WHERE subscription = ?", subscription);
    }

    @Override
    public Set<String> parkedKeys(String subscription) {
        return strings("SELECT DISTINCT event_key FROM %s WHERE subscription = ? AND parks_key = 1"
                + " AND event_key <> ''", subscription);
    }

    @Override
    public Set<String> parkedAmong(String subscription, Collection<String> keys) {
        Set<String> out = new LinkedHashSet<>();
        List<String> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += 500) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + 500));
            String marks = String.join(", ", Collections.nCopies(chunk.size(), "?"));
            String[] args = new String[chunk.size() + 1];
            args[0] = subscription;
            for (int i = 0; i < chunk.size(); i++) {
                args[i + 1] = key(chunk.get(i));
            }
            Set<String> parked = strings("SELECT DISTINCT event_key FROM %s WHERE subscription = ? AND parks_key = 1"
                    + " AND event_key IN (" + marks + ")", args);
            for (String k : chunk) {
                if (parked.contains(key(k))) {
                    out.add(k);
                }
            }
        }
        return out;
    }

    @Override
    public Set<String> orphanedKeys(String subscription) {
        return strings("SELECT DISTINCT h.event_key FROM %1$s h WHERE h.subscription = ? AND h.kind = 'HELD'"
                + " AND NOT EXISTS (SELECT 1 FROM %1$s f WHERE f.subscription = h.subscription"
                + " AND f.event_key = h.event_key AND f.kind = 'FAILED' AND f.parks_key = 1 AND f.seq < h.seq)",
                subscription);
    }

    @Override
    public boolean update(DeadLetter letter) {
        return write("UPDATE %s SET subscription = ?, kind = ?, event_id = ?, event_key = ?, event_type = ?,"
                + " payload = ?, reason = ?, error_chain = ?, attempts = ?, first_failure = ?, last_failure = ?,"
                + " origin = ?, parks_key = ? WHERE id = ?", letter.id(), ps -> {
                    ps.setString(1, text(letter.subscription(), SUBSCRIPTION_CHARS));
                    ps.setString(2, letter.kind().name());
                    ps.setString(3, eventId(letter.eventId()));
                    ps.setString(4, key(letter.key()));
                    ps.setString(5, text(letter.type(), KEY_CHARS));
                    ps.setBytes(6, letter.bytes());
                    ps.setString(7, text(letter.reason()));
                    ps.setString(8, text(joinChain(letter.errorChain())));
                    ps.setInt(9, letter.attempts());
                    ps.setTimestamp(10, Timestamp.from(letter.firstFailure()));
                    ps.setTimestamp(11, Timestamp.from(letter.lastFailure()));
                    ps.setString(12, text(letter.origin()));
                    ps.setInt(13, letter.parksKey() ? 1 : 0);
                    ps.setString(14, letter.id());
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
            commit(c);
            return n > 0;
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "writing dead letter " + id, table(), e);
        }
    }

    private List<DeadLetter> query(String where, String... args) {
        try (Connection c = Jdbc.connect(dataSource, "reading dead letters")) {
            return query(c, tables(c), where, args);
        } catch (SQLException e) {
            throw Jdbc.failure(tables, "reading dead letters", table(), e);
        }
    }

    private static List<DeadLetter> query(Connection c, Tables t, String where, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + t.deadLetters() + " " + where)) {
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
    }

    private static Optional<DeadLetter> byEvent(Connection c, Tables t, String subscription, String eventId)
            throws SQLException {
        return query(c, t, "WHERE subscription = ? AND event_id = ?", text(subscription, SUBSCRIPTION_CHARS),
                eventId(eventId)).stream().findFirst();
    }

    private static Optional<DeadLetter> byOrigin(Connection c, Tables t, DeadLetter letter) throws SQLException {
        return query(c, t, "WHERE subscription = ? AND event_id IS NULL AND origin = ? ORDER BY seq",
                text(letter.subscription(), SUBSCRIPTION_CHARS), text(letter.origin())).stream().findFirst();
    }

    private Set<String> strings(String template, String... args) {
        try (Connection c = Jdbc.connect(dataSource, "reading dead letters")) {
            try (PreparedStatement ps = c.prepareStatement(String.format(template, tables(c).deadLetters()))) {
                ps.setString(1, text(args[0], SUBSCRIPTION_CHARS));
                for (int i = 1; i < args.length; i++) {
                    ps.setString(i + 1, args[i]);
                }
                Set<String> out = new LinkedHashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(nullToEmpty(rs.getString(1)));
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
        ps.setString(2, text(l.subscription(), SUBSCRIPTION_CHARS));
        ps.setString(3, l.kind().name());
        ps.setString(4, eventId(l.eventId())); // NULL: letters of undecodable records never collide
        ps.setString(5, key(l.key()));
        ps.setString(6, text(l.type(), KEY_CHARS));
        ps.setBytes(7, l.bytes());
        ps.setString(8, text(l.reason()));
        ps.setString(9, text(joinChain(l.errorChain())));
        ps.setInt(10, l.attempts());
        ps.setTimestamp(11, Timestamp.from(l.firstFailure()));
        ps.setTimestamp(12, Timestamp.from(l.lastFailure()));
        ps.setString(13, text(l.origin()));
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

    private static String eventId(String id) {
        return id.isEmpty() ? null : text(id, ID_CHARS);
    }

    private static String key(String key) {
        return text(key, KEY_CHARS);
    }

    private static String text(String s) {
        return text(s, TEXT_CHARS);
    }

    /**
     * {@code s} as every supported database accepts it in a text column: U+0000 (refused by PostgreSQL)
     * and unpaired surrogates (not encodable as UTF-8) become U+FFFD, and it is cut to {@code max}
     * characters, never inside a surrogate pair. The same input always gives the same output, so a key
     * stored this way still matches. Null stays null.
     */
    static String text(String s, int max) {
        if (s == null) {
            return null;
        }
        StringBuilder out = null;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char ch = s.charAt(i);
            boolean bad = ch == '\0'
                    || (Character.isHighSurrogate(ch) && (i + 1 >= n || !Character.isLowSurrogate(s.charAt(i + 1))))
                    || (Character.isLowSurrogate(ch) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1))));
            if (bad && out == null) {
                out = new StringBuilder(n).append(s, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : ch);
            }
        }
        String clean = out == null ? s : out.toString();
        if (clean.length() <= max) {
            return clean;
        }
        int cut = Character.isHighSurrogate(clean.charAt(max - 1)) ? max - 1 : max;
        return clean.substring(0, cut);
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

    private static void commit(Connection c) throws SQLException {
        if (!c.getAutoCommit()) {
            c.commit();
        }
    }

    private static void rollback(Connection c) throws SQLException {
        if (!c.getAutoCommit()) {
            c.rollback();
        }
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
