package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.jdbc.WalOutbox.Capture;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.jdbc.test.AccountStatus;
import io.eventsync.jdbc.test.Owner;
import io.eventsync.v1.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The crash test in WAL mode: a child JVM runs the WAL relay, the embedded log and the copy's consumer;
 * it is killed with SIGKILL at random moments, at least 20 times, while four writer threads here commit
 * at least 20,000 business changes (updates and deletes of 300 accounts) with their events, two
 * writers as logical messages and two as outbox rows, and restarted each time. At the end the copy
 * equals the source, the inbox holds every event exactly once, and the log shows each account's
 * events first arriving in sequence order 1, 2, 3, ... with none missing.
 */
@Tag("database")
@Tag("crash")
class WalCrashTest {
    private static final int WRITERS = 4;
    private static final int EVENTS = 20_000;
    private static final int ACCOUNTS = 300;
    private static final int KILLS = 20;
    /** Writers pace themselves so the stream lasts through every kill and restart. */
    private static final double EVENTS_PER_SECOND = 300;
    private static final String COLUMNS = "account_id, balance_cents, owner_name, active, opened, status, version";

    private LogicalDatabase sourceDb;
    private LogicalDatabase copyDb;
    private String slot;
    /**
     * Unique per run: logical messages are not bound to a schema, so every slot of the database reads them,
     * and a relay takes those with its source's prefix. Another test writing to the same source name at the
     * same time (another build on the cluster) would add its events to this copy.
     */
    private String source;
    private Process node;
    private Path nodeLog;

    @BeforeEach
    void createSchemas() throws Exception {
        sourceDb = LogicalDatabase.create();
        copyDb = LogicalDatabase.create();
        slot = sourceDb.slot("crash", true);
        source = "accounts-" + sourceDb.schema().substring(3);
        Accounts.copyTable().createTable(copyDb.dataSource());
        try (Connection c = sourceDb.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (account_id VARCHAR(255) PRIMARY KEY, balance_cents BIGINT,"
                    + " owner_name TEXT, active BOOLEAN, opened TIMESTAMPTZ, status VARCHAR(255), version BIGINT NOT NULL)");
            // The per-account version survives deletes, so a re-created account continues its sequence.
            st.execute("CREATE TABLE account_versions (account_id VARCHAR(255) PRIMARY KEY, version BIGINT NOT NULL)");
            st.execute("INSERT INTO account_versions SELECT 'acc-' || i, 0 FROM generate_series(0, " + (ACCOUNTS - 1) + ") i");
        }
        nodeLog = Path.of("target", "wal-crash-node-" + mode() + "-" + sourceDb.schema() + ".log");
        Files.createDirectories(nodeLog.getParent());
    }

    @AfterEach
    void dropSchemas() throws Exception {
        if (node != null) {
            node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        sourceDb.close();
        copyDb.close();
    }

    @Test
    void copyEqualsSourceAndKeysKeepTheirOrderAfterTwentySigkillsOfTheWalRelay() throws Exception {
        AtomicLong written = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        long nanosPerEvent = (long) (1e9 * WRITERS / EVENTS_PER_SECOND);
        for (int w = 0; w < WRITERS; w++) {
            Capture capture = w % 2 == 0 ? Capture.MESSAGE : Capture.ROW;
            Thread t = new Thread(() -> write(capture, EVENTS / WRITERS, nanosPerEvent, written, failed),
                    "wal-crash-writer-" + w);
            writers.add(t);
            t.start();
        }

        int kills = 0;
        while (kills < KILLS || writersAlive(writers)) {
            startNode();
            long target = inboxCount() + ThreadLocalRandom.current().nextLong(30, 400);
            // A random moment while it works: after it applied a random number of further events (or the
            // writers are done and it has caught up).
            // A deadline, not a speed: a cold child JVM on a loaded 2-core machine takes tens of seconds to start.
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .failFast("writer failed", failed::get)
                    .failFast("the node exited; its log: " + nodeLog.toAbsolutePath(), () -> !node.isAlive())
                    .until(() -> inboxCount() >= target || (!writersAlive(writers) && inboxCount() >= written.get()));
            if (!writersAlive(writers) && kills >= KILLS) {
                break;
            }
            node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            kills++;
        }
        for (Thread t : writers) {
            t.join();
        }
        assertThat(failed).isFalse();
        assertThat(kills).isGreaterThanOrEqualTo(KILLS);
        assertThat(written.get()).isGreaterThanOrEqualTo(EVENTS);
        if (!node.isAlive()) {
            startNode();
        }

        // A deadline, not a speed: the restarted node is a cold JVM that must catch up on a loaded machine.
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(200))
                .failFast("the node exited; its log: " + nodeLog.toAbsolutePath(), () -> !node.isAlive())
                .conditionEvaluationListener(c -> {
                    if (c.getRemainingTimeInMS() < 1000) { // what a timeout leaves behind to debug it with
                        System.err.println("at the deadline: " + state(written.get()) + "\nnode log: " + tail());
                    }
                })
                .until(() -> inboxCount() >= written.get() && differences() == 0);
        assertThat(differences()).isZero();
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(*) FROM accounts_copy"))
                .isEqualTo(count(sourceDb.dataSource(), "SELECT COUNT(*) FROM accounts"));
        assertThat(inboxCount()).isEqualTo(written.get());
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(DISTINCT event_id) FROM eventsync_inbox")).isEqualTo(written.get());
        assertThat(count(copyDb.dataSource(), "SELECT COUNT(*) FROM eventsync_dead_letters")).isZero();
        assertThat(count(sourceDb.dataSource(), "SELECT COUNT(*) FROM eventsync_outbox")).isZero();
        if (mode().equals("log")) {
            assertEveryKeyFirstArrivedInSequenceOrderWithNoneMissing(written.get());
        }
    }

    /**
     * What the node runs between relay and dispatcher ({@link WalCrashNode}): {@code log}, the embedded log.
     * Without a log ({@code direct}) the arrival order is not kept anywhere, and only the copy and the inbox
     * are checked.
     */
    String mode() {
        return "log";
    }

    /**
     * The log keeps every append, redeliveries included; the first time each event appears must follow
     * its account's sequence: 1, 2, 3, ... A lost event would leave a gap, a reordering a step back.
     */
    private void assertEveryKeyFirstArrivedInSequenceOrderWithNoneMissing(long expected) throws Exception {
        Set<String> seen = new HashSet<>();
        Map<String, Long> lastSequence = new HashMap<>();
        try (Connection c = sourceDb.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT payload FROM eventsync_log WHERE topic = ? ORDER BY log_offset")) {
            ps.setString(1, WalCrashNode.TOPIC);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Envelope e = parse(rs.getBytes(1));
                    if (Heartbeats.isHeartbeat(e)) {
                        continue; // the relay's freshness heartbeats share the log; they are not events
                    }
                    if (!seen.add(e.getId())) {
                        continue;
                    }
                    long previous = lastSequence.getOrDefault(e.getSubject(), 0L);
                    assertThat(e.getSequence()).as("first arrival of %s after %s", e.getSubject(), previous)
                            .isEqualTo(previous + 1);
                    lastSequence.put(e.getSubject(), e.getSequence());
                }
            }
        }
        assertThat((long) seen.size()).isEqualTo(expected);
    }

    private static Envelope parse(byte[] bytes) throws InvalidProtocolBufferException {
        return Envelope.parseFrom(bytes);
    }

    private static boolean writersAlive(List<Thread> writers) {
        return writers.stream().anyMatch(Thread::isAlive);
    }

    private void startNode() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), WalCrashNode.class.getName(), LogicalDatabase.baseUrl(),
                sourceDb.schema(), copyDb.schema(), slot, mode(), source);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(nodeLog.toFile()));
        node = pb.start();
    }

    /** Business change and its event in one transaction. */
    private void write(Capture capture, int events, long nanosPerEvent, AtomicLong written, AtomicBoolean failed) {
        WalOutbox outbox = WalOutbox.of(source, sourceDb.names()).capture(capture);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long next = System.nanoTime();
        try {
            for (int i = 0; i < events; i++) {
                next += nanosPerEvent;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // pacing the stream, not waiting for a condition
                }
                String id = "acc-" + random.nextInt(ACCOUNTS);
                try (Connection c = sourceDb.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    long version = lockNextVersion(c, id);
                    boolean exists = exists(c, id);
                    AccountChanged payload = payload(id, random.nextLong(1_000_000));
                    Envelope event;
                    if (exists && random.nextInt(100) < 5) {
                        execute(c, "DELETE FROM accounts WHERE account_id = ?", id);
                        event = Events.tombstone(source, id, version, payload);
                    } else {
                        upsert(c, payload, version);
                        event = Events.create(source, id, version, payload);
                    }
                    outbox.append(c, event);
                    c.commit();
                    written.incrementAndGet();
                }
            }
        } catch (SQLException | RuntimeException e) {
            failed.set(true);
            throw new IllegalStateException("writer failed: " + e, e);
        }
    }

    static AccountChanged payload(String id, long balance) {
        Instant opened = Instant.ofEpochMilli(1_600_000_000_000L + balance);
        return AccountChanged.newBuilder()
                .setAccountId(id)
                .setBalanceCents(balance)
                .setOwner(Owner.newBuilder().setId("o-" + id).setName("Owner " + balance % 97))
                .setActive(balance % 2 == 0)
                .setSecretNote("not copied")
                .setOpened(Timestamp.newBuilder().setSeconds(opened.getEpochSecond()).setNanos(opened.getNano()))
                .setStatus(balance % 3 == 0 ? AccountStatus.CLOSED : AccountStatus.OPEN)
                .build();
    }

    static long lockNextVersion(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE account_versions SET version = version + 1 WHERE account_id = ? RETURNING version")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static boolean exists(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM accounts WHERE account_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static void upsert(Connection c, AccountChanged a, long version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (account_id) DO UPDATE SET balance_cents = EXCLUDED.balance_cents,"
                + " owner_name = EXCLUDED.owner_name, active = EXCLUDED.active, opened = EXCLUDED.opened,"
                + " status = EXCLUDED.status, version = EXCLUDED.version")) {
            ps.setString(1, a.getAccountId());
            ps.setLong(2, a.getBalanceCents());
            ps.setString(3, a.getOwner().getName());
            ps.setBoolean(4, a.getActive());
            ps.setTimestamp(5, java.sql.Timestamp.from(Instant.ofEpochSecond(a.getOpened().getSeconds(), a.getOpened().getNanos())));
            ps.setString(6, a.getStatus().name());
            ps.setLong(7, version);
            ps.executeUpdate();
        }
    }

    private static void execute(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            ps.executeUpdate();
        }
    }

    private String state(long written) {
        return "written " + written + ", inbox " + inboxCount() + ", differences " + differences() + ", slot confirmed "
                + sourceDb.confirmedLsn(slot) + " of " + sourceDb.currentLsn();
    }

    private long inboxCount() {
        return count(copyDb.dataSource(), "SELECT COUNT(*) FROM eventsync_inbox");
    }

    /** Rows that differ between source and copy, both ways, over every copied column. */
    private long differences() {
        String src = "SELECT " + COLUMNS + " FROM " + sourceDb.schema() + ".accounts";
        String cp = "SELECT " + COLUMNS + " FROM " + copyDb.schema() + ".accounts_copy";
        return count(sourceDb.dataSource(), "SELECT (SELECT COUNT(*) FROM (" + src + " EXCEPT " + cp + ") a)"
                + " + (SELECT COUNT(*) FROM (" + cp + " EXCEPT " + src + ") b)");
    }

    private long count(DataSource ds, String sql) {
        try (Connection c = ds.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e + "\nnode log: " + tail(), e);
        }
    }

    private String tail() {
        try {
            List<String> lines = Files.readAllLines(nodeLog);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "<no log: " + e + ">";
        }
    }
}
