package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.jdbc.test.AccountStatus;
import io.eventsync.jdbc.test.Owner;
import io.eventsync.v1.Envelope;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 3's crash test on PostgreSQL: a child JVM runs the relay, the embedded log and the copy's
 * consumer; it is killed with SIGKILL at random moments, at least 20 times, while four writer
 * threads here commit at least 20,000 business changes with their outbox rows (updates and deletes
 * of 300 accounts), and restarted each time. At the end the copy equals the source row for row and
 * the inbox holds every event exactly once.
 */
@Tag("database")
@Tag("crash")
class CrashTest {
    private static final int WRITERS = 4;
    private static final int EVENTS = 20_000;
    private static final int ACCOUNTS = 300;
    private static final int KILLS = 20;
    /** Writers pace themselves so the stream lasts through every kill and restart. */
    private static final double EVENTS_PER_SECOND = 260;
    private static final String COLUMNS = "account_id, balance_cents, owner_name, active, opened, status, version";

    private final String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String source = "crash_src_" + suffix;
    private final String copy = "crash_copy_" + suffix;
    private HikariDataSource sourceDb;
    private HikariDataSource copyDb;
    private Process node;
    private Path nodeLog;

    @BeforeEach
    void createSchemas() throws Exception {
        TestDb.admin(TestDb.PG_URL, "postgres", "CREATE SCHEMA " + source);
        TestDb.admin(TestDb.PG_URL, "postgres", "CREATE SCHEMA " + copy);
        sourceDb = TestDb.pool(TestDb.PG_URL + "?currentSchema=" + source, "postgres", 8);
        copyDb = TestDb.pool(TestDb.PG_URL + "?currentSchema=" + copy, "postgres", 4);
        EventsyncSchema.install(sourceDb, SchemaNames.of(source));
        EventsyncSchema.install(copyDb, SchemaNames.of(copy));
        Accounts.copyTable().createTable(copyDb);
        try (Connection c = sourceDb.getConnection()) {
            c.createStatement().execute("CREATE TABLE accounts (account_id VARCHAR(255) PRIMARY KEY,"
                    + " balance_cents BIGINT, owner_name TEXT, active BOOLEAN, opened TIMESTAMPTZ, status VARCHAR(255),"
                    + " version BIGINT NOT NULL)");
            // The per-account version survives deletes, so a re-created account continues its sequence.
            c.createStatement().execute("CREATE TABLE account_versions (account_id VARCHAR(255) PRIMARY KEY,"
                    + " version BIGINT NOT NULL)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account_versions VALUES (?, 0)")) {
                for (int i = 0; i < ACCOUNTS; i++) {
                    ps.setString(1, "acc-" + i);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
        nodeLog = Path.of("target", "crash-node-" + suffix + ".log");
        Files.createDirectories(nodeLog.getParent());
    }

    @AfterEach
    void dropSchemas() throws Exception {
        if (node != null) {
            node.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        sourceDb.close();
        copyDb.close();
        TestDb.admin(TestDb.PG_URL, "postgres", "DROP SCHEMA IF EXISTS " + source + " CASCADE");
        TestDb.admin(TestDb.PG_URL, "postgres", "DROP SCHEMA IF EXISTS " + copy + " CASCADE");
    }

    @Test
    void copyEqualsSourceAfterTwentySigkillsDuringTwentyThousandEvents() throws Exception {
        AtomicLong written = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        long nanosPerEvent = (long) (1e9 * WRITERS / EVENTS_PER_SECOND);
        for (int w = 0; w < WRITERS; w++) {
            Thread t = new Thread(() -> write(EVENTS / WRITERS, nanosPerEvent, written, failed), "crash-writer-" + w);
            writers.add(t);
            t.start();
        }

        int kills = 0;
        while (kills < KILLS || writers.stream().anyMatch(Thread::isAlive)) {
            startNode();
            long applied = inboxCount();
            long target = applied + ThreadLocalRandom.current().nextLong(50, 700);
            // A random moment while it works: after it applied a random number of further events (or
            // the writers are done and it has caught up).
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(20))
                    .failFast("writer failed", failed::get)
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

        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(200))
                .until(() -> inboxCount() >= written.get() && differences() == 0);
        assertThat(differences()).isZero();
        assertThat(count(copyDb, "SELECT COUNT(*) FROM accounts_copy")).isEqualTo(count(sourceDb, "SELECT COUNT(*) FROM accounts"));
        assertThat(inboxCount()).isEqualTo(written.get());
        assertThat(count(copyDb, "SELECT COUNT(DISTINCT event_id) FROM eventsync_inbox")).isEqualTo(written.get());
        assertThat(count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters")).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> count(sourceDb, "SELECT COUNT(*) FROM eventsync_outbox") == 0);
    }

    private static boolean writersAlive(List<Thread> writers) {
        return writers.stream().anyMatch(Thread::isAlive);
    }

    private void startNode() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), CrashNode.class.getName(), TestDb.PG_URL, source, copy);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(nodeLog.toFile()));
        node = pb.start();
    }

    /** Business change and its outbox row in one transaction. */
    private void write(int events, long nanosPerEvent, AtomicLong written, AtomicBoolean failed) {
        Outbox outbox = Outbox.of(CrashNode.SOURCE, SchemaNames.of(source));
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
                try (Connection c = sourceDb.getConnection()) {
                    c.setAutoCommit(false);
                    long version = lockNextVersion(c, id);
                    boolean exists = exists(c, id);
                    AccountChanged payload = payload(id, random.nextLong(1_000_000));
                    Envelope event;
                    if (exists && random.nextInt(100) < 5) {
                        execute(c, "DELETE FROM accounts WHERE account_id = ?", id);
                        event = Events.tombstone(CrashNode.SOURCE, id, version, payload);
                    } else {
                        upsert(c, payload, version);
                        event = Events.create(CrashNode.SOURCE, id, version, payload);
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

    private static AccountChanged payload(String id, long balance) {
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

    private static long lockNextVersion(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE account_versions SET version = version + 1 WHERE account_id = ? RETURNING version")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean exists(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM accounts WHERE account_id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void upsert(Connection c, AccountChanged a, long version) throws SQLException {
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

    private long inboxCount() {
        return count(copyDb, "SELECT COUNT(*) FROM eventsync_inbox");
    }

    /** Rows that differ between source and copy, both ways, over every copied column. */
    private long differences() {
        String src = "SELECT " + COLUMNS + " FROM " + source + ".accounts";
        String cp = "SELECT " + COLUMNS + " FROM " + copy + ".accounts_copy";
        return count(sourceDb, "SELECT (SELECT COUNT(*) FROM (" + src + " EXCEPT " + cp + ") a)"
                + " + (SELECT COUNT(*) FROM (" + cp + " EXCEPT " + src + ") b)");
    }

    private long count(HikariDataSource ds, String sql) {
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
