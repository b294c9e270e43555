package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.jdbc.internal.DbText;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.OutboxBatch;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.transport.OutboundEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The PostgreSQL side of the {@link WalRelay}: the logical replication slot it reads and the
 * publication that slot decodes with {@code pgoutput}. All SQL of the WAL mode lives here.
 *
 * <p>Needs PostgreSQL 14 or later with {@code wal_level = logical} (a restart to change),
 * {@code max_replication_slots} and {@code max_wal_senders} above the number of slots in use, and a
 * role with {@code REPLICATION} (creating, reading and dropping slots). Creating the publication
 * needs ownership of the outbox table (or superuser); taking over a slot from a relay that hangs
 * needs the right to signal its backend (same role, {@code pg_signal_backend}, or superuser).
 *
 * <p>A slot keeps every WAL segment from its confirmed position on: a slot that nobody reads makes
 * the server's disk fill. Drop the slot of a relay that is retired ({@link #drop}); set
 * {@code max_slot_wal_keep_size} to cap what a stalled slot may hold (the slot is then invalidated
 * and its relay stops with an error saying so).
 */
public final class WalSlot {
    /** PostgreSQL's rule for slot names. */
    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");
    /** Lower case only, so that the name means the same quoted (CREATE) and unquoted (publication_names). */
    private static final Pattern PUBLICATION = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    /** Prefix of the relay's own heartbeat messages; no event ever carries it. */
    static final String HEARTBEAT_PREFIX = "eventsync-heartbeat";

    private WalSlot() {}

    /**
     * How the reason of a relay dead letter the WAL relay wrote begins: {@link OutboxDeadLetters} replays
     * such a letter into the WAL (the outbox table's insert, which the WAL relay reads), not into the
     * table a query relay reads.
     */
    static final String DEAD_LETTER_MARK = "[WAL relay] ";

    /**
     * Keeps an event the transport refused for good as a relay dead letter ({@code eventsync_outbox_dead_letters},
     * id = its position), inside the caller's fenced transaction. Idempotent: after a crash the relay reads
     * the event again, and the letter it kept before stands. A different event under the same id (an LSN
     * and a row id that happen to be equal, from two captures) is an error rather than a lost letter.
     */
    static void keepRefused(Connection c, Tables t, String source, OutboundEvent event, String reason) throws SQLException {
        var envelope = event.envelope();
        long id = envelope.getPosition();
        String eventId = DbText.sanitize(envelope.getId(), 64);
        String sql = "INSERT INTO " + t.outboxDeadLetters() + " (id, source, event_id, event_key, event_type,"
                + " event_sequence, payload, created_at, reason, attempts, first_failure, last_failure)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, clock_timestamp(), ?, 1, clock_timestamp(), clock_timestamp())"
                + " ON CONFLICT (id) DO NOTHING";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            ps.setString(2, source);
            ps.setString(3, eventId);
            ps.setString(4, DbText.sanitize(event.key(), 500));
            ps.setString(5, DbText.sanitize(envelope.getType(), 500));
            ps.setLong(6, envelope.getSequence());
            ps.setBytes(7, event.bytes());
            ps.setString(8, DbText.sanitize(DEAD_LETTER_MARK + reason, OutboxBatch.MAX_REASON_CHARS));
            if (ps.executeUpdate() == 1) {
                return;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT source, event_id FROM " + t.outboxDeadLetters()
                + " WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && source.equals(rs.getString(1)) && eventId.equals(rs.getString(2))) {
                    return; // kept before a restart
                }
            }
        }
        throw new EventsyncException("cannot keep refused event " + envelope.getId() + " of " + source + " as relay dead"
                + " letter " + id + ": " + t.outboxDeadLetters() + " holds another event under that id; release that"
                + " letter (eventsync dlq list --outbox) and the relay keeps this one");
    }

    /**
     * Where a slot stands.
     *
     * @param confirmedLsn the position up to which the relay confirmed publication (restart point)
     * @param lagBytes     WAL written since then, which the server keeps for this slot
     * @param walStatus    {@code reserved}, {@code extended}, {@code unreserved} or {@code lost} (invalidated)
     */
    public record Status(String slot, boolean active, long confirmedLsn, long lagBytes, String walStatus) {
        public boolean lost() {
            return "lost".equals(walStatus);
        }
    }

    /** The default slot of a source: {@code eventsync_<source>}, lower case, '.' and '-' as '_'. */
    public static String defaultSlot(String source) {
        return "eventsync_" + source.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    /** The default publication of a source: the same name as its default slot. */
    public static String defaultPublication(String source) {
        return defaultSlot(source);
    }

    /** Returns {@code slot} when it is a valid slot name; otherwise a {@link ConfigException} saying the rule. */
    public static String requireSlotName(String slot) {
        if (slot == null || !SLOT.matcher(slot).matches()) {
            throw new ConfigException("slot must be 1-63 lower-case letters, digits or '_' (PostgreSQL's rule for"
                    + " replication slots), but was: " + slot);
        }
        return slot;
    }

    /** Returns {@code publication} when it is a valid publication name; otherwise a {@link ConfigException}. */
    public static String requirePublicationName(String publication) {
        if (publication == null || !PUBLICATION.matcher(publication).matches()) {
            throw new ConfigException("publication must match " + PUBLICATION.pattern() + ", but was: " + publication);
        }
        return publication;
    }

    /**
     * Checks that {@code dataSource} is a PostgreSQL 14+ database with {@code wal_level = logical}.
     *
     * @throws ConfigException saying why the WAL relay cannot run there and what to use instead
     */
    public static void requireLogical(DataSource dataSource) {
        try (Connection c = Jdbc.connect(dataSource, "checking logical replication")) {
            requireLogical(c);
        } catch (SQLException e) {
            throw new EventsyncException("checking logical replication on " + Jdbc.urlOf(dataSource) + " failed: "
                    + e.getMessage(), e);
        }
    }

    static void requireLogical(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName();
        if (!"PostgreSQL".equalsIgnoreCase(product)) {
            throw new ConfigException("the WAL relay needs PostgreSQL (logical replication), but " + Jdbc.urlOf(c)
                    + " is " + product + "; use the query relay (relay.mode: query) on this database");
        }
        int version = Integer.parseInt(show(c, "server_version_num"));
        if (version < 140000) {
            throw new ConfigException("the WAL relay needs PostgreSQL 14 or later (pgoutput with messages), but "
                    + Jdbc.urlOf(c) + " runs " + show(c, "server_version") + "; use the query relay (relay.mode: query)");
        }
        String walLevel = show(c, "wal_level");
        if (!"logical".equals(walLevel)) {
            throw new ConfigException("the WAL relay needs wal_level = logical, but " + Jdbc.urlOf(c) + " has wal_level = "
                    + walLevel + "; set wal_level = logical in postgresql.conf and restart the server, or use the"
                    + " query relay (relay.mode: query)");
        }
    }

    /**
     * Creates the publication (the outbox table, inserts only; logical messages need no table) and the
     * slot, each only if missing. Idempotent. Events are captured from the moment the slot exists:
     * create it before the writers switch to {@link WalOutbox}.
     *
     * @return true when the slot was created by this call
     */
    public static boolean create(DataSource dataSource, SchemaNames names, String slot, String publication) {
        requireSlotName(slot);
        requirePublicationName(publication);
        try (Connection c = Jdbc.connect(dataSource, "creating replication slot " + slot)) {
            c.setAutoCommit(true);
            requireLogical(c);
            Tables tables = Tables.resolve(c, names);
            createPublication(c, tables, publication);
            return createSlot(c, slot);
        } catch (SQLException e) {
            throw new EventsyncException("creating publication " + publication + " and slot " + slot + " on "
                    + Jdbc.urlOf(dataSource) + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private static void createPublication(Connection c, Tables tables, String publication) throws SQLException {
        if (exists(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", publication)) {
            return;
        }
        try (Statement st = c.createStatement()) {
            // Only inserts: the writer's own DELETE of a row it captured (WalOutbox row capture) is not news.
            st.execute("CREATE PUBLICATION \"" + publication + "\" FOR TABLE " + tables.outbox()
                    + " WITH (publish = 'insert')");
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) { // created concurrently
                throw e;
            }
        }
    }

    private static boolean createSlot(Connection c, String slot) throws SQLException {
        if (exists(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ?", slot)) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
            ps.setString(1, slot);
            ps.execute();
            return true;
        } catch (SQLException e) {
            if ("42710".equals(e.getSQLState())) { // created concurrently
                return false;
            }
            throw e;
        }
    }

    /** The slot's status, empty when it does not exist. */
    public static Optional<Status> status(DataSource dataSource, String slot) {
        try (Connection c = Jdbc.connect(dataSource, "reading replication slot " + slot)) {
            return status(c, slot);
        } catch (SQLException e) {
            throw new EventsyncException("reading replication slot " + slot + " on " + Jdbc.urlOf(dataSource)
                    + " failed: " + e.getMessage(), e);
        }
    }

    static Optional<Status> status(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT active, (confirmed_flush_lsn - '0/0')::bigint,"
                + " (pg_current_wal_lsn() - confirmed_flush_lsn)::bigint, wal_status, plugin"
                + " FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                if (!"pgoutput".equals(rs.getString(5))) {
                    throw new ConfigException("replication slot " + slot + " uses plugin " + rs.getString(5)
                            + ", not pgoutput; it is not an eventsync slot: choose another slot name");
                }
                return Optional.of(new Status(slot, rs.getBoolean(1), rs.getLong(2), Math.max(0, rs.getLong(3)),
                        rs.getString(4)));
            }
        }
    }

    /**
     * The slot as a relay that holds its lease starts reading it: ends the backend still reading it, if
     * any, and refuses a slot that is missing or invalidated with the way to recover.
     */
    static Status takeOver(Connection c, String slot) throws SQLException {
        Status status = status(c, slot).orElseThrow(() -> missing(slot, Jdbc.urlOf(c)));
        if (status.lost()) {
            throw invalidated(slot, Jdbc.urlOf(c));
        }
        if (status.active()) {
            terminateReader(c, slot);
        }
        return status;
    }

    /** A failure of the replication stream, in words that say what to do. */
    static EventsyncException failure(SQLException e, String slot, String publication, DataSource dataSource,
                                      Tables tables, String what) {
        String state = e.getSQLState();
        String message = String.valueOf(e.getMessage());
        if ("42704".equals(state) && message.contains("publication")) {
            return new ConfigException("publication " + publication + " does not exist on " + Jdbc.urlOf(dataSource)
                    + " (the database says: " + message + "); create it with WalSlot.create, which makes it for"
                    + " the outbox table, inserts only", e);
        }
        if ("42704".equals(state)) {
            return missing(slot, Jdbc.urlOf(dataSource));
        }
        if ("55000".equals(state) && message.contains("invalidated")) {
            return invalidated(slot, Jdbc.urlOf(dataSource));
        }
        return Jdbc.failure(tables, what + " (slot " + slot + ")", "replication slot " + slot, e);
    }

    private static ConfigException missing(String slot, String url) {
        return new ConfigException("replication slot " + slot + " does not exist on " + url
                + ". On a first run create it (WalSlot.create, WalRelay.Builder.createSlot(true) or"
                + " relay.create_slot: true) before the writers start. If the relay ran before, the slot was dropped:"
                + " events committed while no slot existed were not captured, so re-create it with WalSlot.create"
                + " and re-bootstrap the copies");
    }

    private static ConfigException invalidated(String slot, String url) {
        return new ConfigException("replication slot " + slot + " on " + url + " was invalidated by the server"
                + " (wal_status lost: it fell further behind than max_slot_wal_keep_size), so the WAL after its"
                + " position is gone. To recover: WalSlot.drop, then WalSlot.create, then re-bootstrap the copies");
    }

    /**
     * Drops the slot (and with it the WAL it retains), ending a reader that still holds it; waits up to
     * {@code timeout} for that reader to let go. A no-op when the slot does not exist.
     */
    public static void drop(DataSource dataSource, String slot, Duration timeout) {
        requireSlotName(slot);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = Jdbc.connect(dataSource, "dropping replication slot " + slot)) {
            c.setAutoCommit(true);
            while (true) {
                terminateReader(c, slot);
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                    ps.setString(1, slot);
                    ps.execute();
                    return;
                } catch (SQLException e) {
                    // 55006: the terminated reader has not exited yet
                    if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                }
                pauseBriefly();
            }
        } catch (SQLException e) {
            throw new EventsyncException("dropping replication slot " + slot + " on " + Jdbc.urlOf(dataSource)
                    + " failed (SQLState " + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    /** Drops the publication if it exists. */
    public static void dropPublication(DataSource dataSource, String publication) {
        requirePublicationName(publication);
        try (Connection c = Jdbc.connect(dataSource, "dropping publication " + publication);
             Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("DROP PUBLICATION IF EXISTS \"" + publication + "\"");
        } catch (SQLException e) {
            throw new EventsyncException("dropping publication " + publication + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Ends the backend reading the slot, if any: a relay that lost its lease but still streams (paused,
     * partitioned) is cut off before its successor reads, so it can confirm nothing after that.
     *
     * @return true when a reader was signalled
     */
    static boolean terminateReader(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots"
                + " WHERE slot_name = ? AND active_pid IS NOT NULL")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * A message outside any transaction that every slot of the database decodes: a relay that receives
     * it with nothing in flight confirms its position, so an idle slot advances (and the WAL behind it
     * can be recycled) even when no event is written.
     */
    static void heartbeat(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(false, ?, '')")) {
            ps.setString(1, HEARTBEAT_PREFIX);
            ps.execute();
        }
    }

    /**
     * Writes a freshness mark (see {@link io.eventsync.jdbc.internal.WalSession#FRESHNESS_PREFIX}): the
     * clock is read while the statement runs, before the message is inserted into the WAL.
     */
    static void freshnessMark(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(false, ?,"
                + " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text)")) {
            ps.setString(1, io.eventsync.jdbc.internal.WalSession.FRESHNESS_PREFIX);
            ps.execute();
        }
    }

    /** {@code 0/1942EA8}, PostgreSQL's text form of a WAL position. */
    public static String lsnText(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
    }

    private static boolean exists(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String show(Connection c, String setting) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void pauseBriefly() {
        try {
            Thread.sleep(50); // the terminated backend exits within milliseconds; no signal tells us when
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("interrupted while dropping a replication slot", e);
        }
    }
}
