package io.eventsync.kafka;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.v1.Envelope;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 15's scenario: a PostgreSQL outbox, its relay and a 6-partition Kafka topic consumed by three
 * consumer processes of one group (queue mode) applying to one PostgreSQL copy. Four writers commit
 * 20,000 account changes (updates, and about 5% deletes of an existing account, which later changes
 * create again), about 0.5% of them poison events that the handler rejects; consumers and relay are
 * killed with SIGKILL at random moments, at least 22 times, and restarted, and once a consumer is kept
 * down until the group has moved its partitions to the members still running. At the end the poison
 * events are replayed with the handler fixed.
 *
 * <p>Every apply is recorded by a trigger on the copy table (a delete by one on its tombstones) and every dead letter by a trigger on the
 * letters table, so the test checks the history, not only the final rows: each committed version of
 * each key applied once and in order, no event with two letters, no apply on a key while it has a
 * FAILED letter; then the copy equals the source and the inbox holds each event once. A monitor reads
 * the group's committed offsets every 100 ms and reports the longest time consumption stood still while
 * there was work (asserted only against a generous multiple of the session timeout).
 */
@Tag("database")
@Tag("crash")
class KafkaChurnTest {
    private static final String PG_URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final int WRITERS = 4;
    private static final int EVENTS = 20_000;
    private static final int ACCOUNTS = 200;
    private static final int KILLS = 22;
    private static final double EVENTS_PER_SECOND = 200;
    /** Of the changes to an account that exists, this many in 100 delete it. */
    private static final int DELETE_PERCENT = 5;
    /** One event in 200 is poison. */
    private static final int POISON_ONE_IN = 200;
    /** The broker's consumer-group session timeout: how long a killed member keeps its partitions. */
    private static final Duration SESSION_TIMEOUT = Duration.ofSeconds(6);

    private final String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String source = "churn_src_" + suffix;
    private final String copy = "churn_copy_" + suffix;
    private final Path logs = Path.of("target", "churn-" + suffix);
    private final List<Node> nodes = new ArrayList<>();
    private final AtomicLong deletes = new AtomicLong();
    private LocalKafka kafka;
    private HikariDataSource sourceDb;
    private HikariDataSource copyDb;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(logs);
        kafka = LocalKafka.builder()
                .brokerProperty("group.consumer.session.timeout.ms", Long.toString(SESSION_TIMEOUT.toMillis()))
                .brokerProperty("group.consumer.heartbeat.interval.ms", "500")
                .start();
        // Created here, not by the four processes racing at start on a loaded machine.
        try (KafkaTransport topicMaker = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                .partitions(KafkaChurnNode.PARTITIONS).build()) {
            topicMaker.publisher(KafkaChurnNode.TOPIC).close();
        }
        admin("CREATE SCHEMA " + source);
        admin("CREATE SCHEMA " + copy);
        sourceDb = KafkaChurnNode.pool(PG_URL + "?currentSchema=" + source, WRITERS + 1);
        copyDb = KafkaChurnNode.pool(PG_URL + "?currentSchema=" + copy, 3);
        EventsyncSchema.install(sourceDb, SchemaNames.of(source));
        EventsyncSchema.install(copyDb, SchemaNames.of(copy));
        KafkaChurnNode.copyTable().createTable(copyDb);
        execute(sourceDb, "CREATE TABLE accounts (account_id VARCHAR(64) PRIMARY KEY, balance_cents BIGINT,"
                + " version BIGINT NOT NULL)");
        execute(sourceDb, "CREATE TABLE account_versions (account_id VARCHAR(64) PRIMARY KEY, version BIGINT NOT NULL)");
        execute(sourceDb, "INSERT INTO account_versions SELECT 'acct-' || i, 0 FROM generate_series(0, "
                + (ACCOUNTS - 1) + ") i");
        execute(sourceDb, "CREATE TABLE poison (event_id VARCHAR(64) PRIMARY KEY, account_id VARCHAR(64),"
                + " version BIGINT)");
        // The copy's history: every apply, in the order the row locks let them happen, and every letter.
        execute(copyDb, "CREATE TABLE apply_log (id BIGSERIAL PRIMARY KEY, account_id VARCHAR(64), version BIGINT,"
                + " at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
        execute(copyDb, "CREATE FUNCTION log_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " INSERT INTO apply_log (account_id, version) VALUES (NEW.account_id, NEW.version); RETURN NEW; END $$");
        execute(copyDb, "CREATE TRIGGER accounts_copy_applied AFTER INSERT OR UPDATE ON accounts_copy"
                + " FOR EACH ROW EXECUTE FUNCTION log_apply()");
        // A delete is applied as the copy row's removal plus its tombstone (row_key is '<length>:<key>').
        execute(copyDb, "CREATE FUNCTION log_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " INSERT INTO apply_log (account_id, version)"
                + " VALUES (substring(NEW.row_key from position(':' in NEW.row_key) + 1), NEW.version); RETURN NEW; END $$");
        execute(copyDb, "CREATE TRIGGER accounts_copy_deleted AFTER INSERT OR UPDATE ON eventsync_copy_tombstones"
                + " FOR EACH ROW EXECUTE FUNCTION log_delete()");
        execute(copyDb, "CREATE TABLE letter_log (id BIGSERIAL PRIMARY KEY, letter_id VARCHAR(64), event_id VARCHAR(64),"
                + " event_key VARCHAR(500), kind VARCHAR(16), at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())");
        execute(copyDb, "CREATE FUNCTION log_letter() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " INSERT INTO letter_log (letter_id, event_id, event_key, kind)"
                + " VALUES (NEW.id, NEW.event_id, NEW.event_key, NEW.kind); RETURN NEW; END $$");
        execute(copyDb, "CREATE TRIGGER letters_added AFTER INSERT ON eventsync_dead_letters"
                + " FOR EACH ROW EXECUTE FUNCTION log_letter()");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Node node : nodes) {
            node.kill();
        }
        if (kafka != null) {
            kafka.close();
        }
        if (sourceDb != null) {
            sourceDb.close();
        }
        if (copyDb != null) {
            copyDb.close();
        }
        admin("DROP SCHEMA IF EXISTS " + source + " CASCADE");
        admin("DROP SCHEMA IF EXISTS " + copy + " CASCADE");
    }

    @Test
    void aConsumerGroupUnderChurnAppliesEveryVersionInOrderAndNeverStalls() throws Exception {
        Node relay = node("relay", source);
        List<Node> consumers = List.of(node("consumer-0", copy), node("consumer-1", copy), node("consumer-2", copy));
        ChurnMonitor monitor = new ChurnMonitor(kafka.bootstrapServers(), KafkaChurnNode.TOPIC, KafkaChurnNode.GROUP,
                KafkaChurnNode.PARTITIONS);
        monitor.start();
        AtomicLong written = new AtomicLong();
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> writers = startWriters(written, failed);

        int kills = 0;
        List<String> killLog = new ArrayList<>();
        boolean keptDown = false;
        while (kills < KILLS || writersAlive(writers)) {
            // The next kill leaves at least two consumers that are in the group, not merely started.
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(100))
                    .failFast("a node exited by itself", () -> assertThat(exitedNodes()).isEmpty())
                    .until(() -> relay.ready() && consumers.stream().allMatch(c -> c.ready() && monitor.hasMember(c.clientId())));
            long target = applied() + ThreadLocalRandom.current().nextLong(100, 300);
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(50))
                    .failFast("a writer failed", failed::get)
                    .failFast("a node exited by itself", () -> assertThat(exitedNodes()).isEmpty())
                    .until(() -> applied() >= target || (!writersAlive(writers) && monitor.caughtUp()));
            if (!writersAlive(writers) && kills >= KILLS) {
                break;
            }
            boolean killRelay = ThreadLocalRandom.current().nextInt(4) == 0;
            Node victim = killRelay ? relay : consumers.get(ThreadLocalRandom.current().nextInt(consumers.size()));
            String victimClient = victim.clientId();
            victim.kill();
            kills++;
            killLog.add(java.time.LocalTime.now() + " killed " + victimClient);
            if (!killRelay && !keptDown && kills >= KILLS / 2) {
                // Kept down past the session timeout: its partitions must move to the members still running.
                keptDown = true;
                await().atMost(SESSION_TIMEOUT.multipliedBy(5)).pollInterval(Duration.ofMillis(100))
                        .until(() -> monitor.everyPartitionOwnedByOthersThan(victimClient));
            }
            victim.start();
            killLog.add(java.time.LocalTime.now() + " started " + victim.clientId());
        }
        for (Thread writer : writers) {
            writer.join();
        }
        assertThat(failed).isFalse();
        assertThat(keptDown).isTrue();

        // Drain: everything relayed, and every record of the topic acknowledged (applied or dead-lettered).
        await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(200))
                .failFast("a node exited by itself", () -> assertThat(exitedNodes()).isEmpty())
                .until(() -> count(sourceDb, "SELECT COUNT(*) FROM eventsync_outbox") == 0 && monitor.caughtUp());
        monitor.stop();
        for (Node consumer : consumers) {
            consumer.kill(); // dlq replay runs while the group's consumers are stopped
        }
        relay.kill();
        String replayStart = text(copyDb, "SELECT clock_timestamp()::text");
        int replayed = replayPoisonWithTheHandlerFixed();

        long total = written.get();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters") == 0
                        && count(copyDb, "SELECT COUNT(*) FROM eventsync_inbox") >= total);

        long poison = count(sourceDb, "SELECT COUNT(*) FROM poison");
        long failedLetters = count(copyDb, "SELECT COUNT(*) FROM letter_log WHERE kind = 'FAILED'");
        long heldLetters = count(copyDb, "SELECT COUNT(*) FROM letter_log WHERE kind = 'HELD'");
        System.out.printf("churn: %d events (%d poison, %d deletes), %d kills (one consumer kept down past the %d s session"
                        + " timeout), %d partition moves (%d to members already running), %d FAILED and %d HELD"
                        + " letters, %d replayed; longest pause of the whole group %d ms (%s), of one partition %d ms (%s)%n",
                total, poison, deletes.get(), kills, SESSION_TIMEOUT.toSeconds(), monitor.moves(), monitor.movesToRunningMembers(),
                failedLetters, heldLetters, replayed, monitor.longestGroupPauseMillis(), monitor.longestGroupPauseWhen(),
                monitor.longestPartitionStallMillis(), monitor.longestPartitionStallWhen());
        killLog.forEach(kill -> System.out.println("churn: " + kill));

        assertThat(kills).isGreaterThanOrEqualTo(KILLS);
        assertThat(total).isGreaterThanOrEqualTo(EVENTS);
        assertThat(monitor.movesToRunningMembers()).isPositive();
        assertEveryCommittedVersionAppliedOnceInOrder();
        // Every poison event got a letter (FAILED, or HELD when an earlier poison event had parked its key),
        // only poison events failed, only parked keys held events, and no event ever got a second letter.
        assertThat(strings(copyDb, "SELECT event_id FROM " + source + ".poison"
                + " EXCEPT SELECT event_id FROM letter_log")).isEmpty();
        assertThat(strings(copyDb, "SELECT event_id FROM letter_log WHERE kind = 'FAILED'"
                + " EXCEPT SELECT event_id FROM " + source + ".poison")).isEmpty();
        assertThat(strings(copyDb, "SELECT event_key FROM letter_log WHERE kind = 'HELD'"
                + " EXCEPT SELECT event_key FROM letter_log WHERE kind = 'FAILED'")).isEmpty();
        assertThat(strings(copyDb, "SELECT event_id FROM letter_log GROUP BY event_id HAVING COUNT(*) > 1")).isEmpty();
        // No apply on a key after its FAILED letter was written, until the replay.
        assertThat(strings(copyDb, "SELECT a.account_id || ' v' || a.version || ' at ' || a.at FROM apply_log a"
                + " JOIN letter_log l ON l.event_key = a.account_id AND l.kind = 'FAILED'"
                + " WHERE a.at > l.at AND a.at < '" + replayStart + "'::timestamptz")).isEmpty();
        assertThat(differences()).isZero();
        assertThat(count(copyDb, "SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(total);
        assertThat(count(copyDb, "SELECT COUNT(DISTINCT event_id) FROM eventsync_inbox")).isEqualTo(total);
        // Members were alive throughout: a pause of the whole group is a rebalance that stopped everyone.
        assertThat(monitor.longestGroupPauseMillis()).isLessThan(SESSION_TIMEOUT.multipliedBy(3).toMillis());
        assertThat(monitor.longestPartitionStallMillis()).isLessThan(SESSION_TIMEOUT.multipliedBy(8).toMillis());
    }

    /** Per key, the applied versions in apply order are exactly 1..the last committed version. */
    private void assertEveryCommittedVersionAppliedOnceInOrder() throws SQLException {
        Map<String, Long> committed = new HashMap<>();
        try (Connection c = sourceDb.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT account_id, version FROM account_versions")) {
            while (rs.next()) {
                committed.put(rs.getString(1), rs.getLong(2));
            }
        }
        Map<String, List<Long>> applied = new HashMap<>();
        try (Connection c = copyDb.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT account_id, version FROM apply_log ORDER BY id")) {
            while (rs.next()) {
                applied.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
            }
        }
        List<String> wrong = new ArrayList<>();
        committed.forEach((key, last) -> {
            List<Long> versions = applied.getOrDefault(key, List.of());
            boolean inOrder = versions.size() == last;
            for (int i = 0; inOrder && i < versions.size(); i++) {
                inOrder = versions.get(i) == i + 1;
            }
            if (!inOrder) {
                wrong.add(key + ": committed 1.." + last + ", applied " + versions);
            }
        });
        assertThat(wrong).as("keys whose applies skipped, repeated or reordered a version").isEmpty();
    }

    /** Replays every FAILED letter through the group's dispatcher with the handler fixed; returns how many. */
    private int replayPoisonWithTheHandlerFixed() throws Exception {
        List<String> letters;
        try (Dispatcher fixed = KafkaChurnNode.dispatcher(copyDb, SchemaNames.of(copy), false)) {
            letters = fixed.deadLetters().list(KafkaChurnNode.GROUP).stream()
                    .filter(l -> l.kind() == DeadLetter.Kind.FAILED).map(DeadLetter::id).toList();
            for (String id : letters) {
                assertThat(fixed.replay(id).get(60, TimeUnit.SECONDS)).as("replay of " + id).isTrue();
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters") == 0);
        }
        return letters.size();
    }

    private List<Thread> startWriters(AtomicLong written, AtomicBoolean failed) {
        List<Thread> writers = new ArrayList<>();
        long nanosPerEvent = (long) (1e9 * WRITERS / EVENTS_PER_SECOND);
        for (int w = 0; w < WRITERS; w++) {
            Thread t = new Thread(() -> write(EVENTS / WRITERS, nanosPerEvent, written, failed), "churn-writer-" + w);
            writers.add(t);
            t.start();
        }
        return writers;
    }

    /** Business change, outbox row (and for a poison event its record) in one transaction. */
    private void write(int events, long nanosPerEvent, AtomicLong written, AtomicBoolean failed) {
        Outbox outbox = Outbox.of(KafkaChurnNode.SOURCE, SchemaNames.of(source));
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long next = System.nanoTime();
        try {
            for (int i = 0; i < events; i++) {
                next += nanosPerEvent;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // pacing the stream, not waiting for a condition
                }
                String id = "acct-" + random.nextInt(ACCOUNTS);
                long balance = random.nextLong(1_000_000);
                boolean poison = random.nextInt(POISON_ONE_IN) == 0;
                boolean delete = random.nextInt(100) < DELETE_PERCENT;
                try (Connection c = sourceDb.getConnection()) {
                    c.setAutoCommit(false);
                    long version = nextVersion(c, id); // locks the account's version row first
                    AccountChanged payload = AccountChanged.newBuilder()
                            .setAccountId(id).setBalanceCents(balance).setPoison(poison).build();
                    Envelope event;
                    if (delete && deleteAccount(c, id)) {
                        event = Events.tombstone(KafkaChurnNode.SOURCE, id, version, payload);
                    } else {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO accounts VALUES (?, ?, ?)"
                                + " ON CONFLICT (account_id) DO UPDATE SET balance_cents = EXCLUDED.balance_cents,"
                                + " version = EXCLUDED.version")) {
                            ps.setString(1, id);
                            ps.setLong(2, balance);
                            ps.setLong(3, version);
                            ps.executeUpdate();
                        }
                        event = Events.create(KafkaChurnNode.SOURCE, id, version, payload);
                    }
                    outbox.append(c, event);
                    if (poison) {
                        try (PreparedStatement ps = c.prepareStatement("INSERT INTO poison VALUES (?, ?, ?)")) {
                            ps.setString(1, event.getId());
                            ps.setString(2, id);
                            ps.setLong(3, version);
                            ps.executeUpdate();
                        }
                    }
                    c.commit();
                    written.incrementAndGet();
                    if (event.getTombstone()) {
                        deletes.incrementAndGet();
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            failed.set(true);
            throw new IllegalStateException("writer failed: " + e, e);
        }
    }

    /** Deletes the account if it exists; the per-account version survives, so a re-creation continues it. */
    private static boolean deleteAccount(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM accounts WHERE account_id = ?")) {
            ps.setString(1, id);
            return ps.executeUpdate() == 1;
        }
    }

    private static long nextVersion(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE account_versions SET version = version + 1 WHERE account_id = ? RETURNING version")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static boolean writersAlive(List<Thread> writers) {
        return writers.stream().anyMatch(Thread::isAlive);
    }

    private long applied() {
        return count(copyDb, "SELECT COALESCE(MAX(id), 0) FROM apply_log");
    }

    /** Rows that differ between source and copy, both ways. */
    private long differences() {
        String src = "SELECT account_id, balance_cents, version FROM " + source + ".accounts";
        String cp = "SELECT account_id, balance_cents, version FROM " + copy + ".accounts_copy";
        return count(sourceDb, "SELECT (SELECT COUNT(*) FROM (" + src + " EXCEPT " + cp + ") a)"
                + " + (SELECT COUNT(*) FROM (" + cp + " EXCEPT " + src + ") b)");
    }

    /** The nodes that exited without being killed, each with the end of its log. */
    private List<String> exitedNodes() {
        return nodes.stream().filter(Node::exitedByItself).map(Node::describe).toList();
    }

    private Node node(String role, String schema) throws IOException {
        Node node = new Node(role, schema);
        nodes.add(node);
        node.start();
        return node;
    }

    /** A child JVM running {@link KafkaChurnNode}; killed with SIGKILL, restarted with a new client id. */
    private final class Node {
        private final String role;
        private final String schema;
        private Path log;
        private Process process;
        private boolean killed;

        private int incarnation;

        Node(String role, String schema) {
            this.role = role;
            this.schema = schema;
        }

        void start() throws IOException {
            log = logs.resolve(role + "-" + ++incarnation + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp",
                    System.getProperty("java.class.path"), KafkaChurnNode.class.getName(),
                    role.startsWith("relay") ? "relay" : "consumer", kafka.bootstrapServers(), PG_URL, schema, role);
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            process = pb.start();
            killed = false;
        }

        /** The Kafka client id of this incarnation (the consumer's member in the group description). */
        String clientId() {
            return role + "-" + process.pid();
        }

        void kill() throws InterruptedException {
            if (process != null && process.isAlive()) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            killed = true;
        }

        /** Subscribed (a consumer) or relaying (the relay): it printed READY. */
        boolean ready() {
            try {
                return Files.exists(log) && Files.readString(log).contains("READY");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        String describe() {
            try {
                List<String> lines = Files.readAllLines(log);
                return role + " exited with " + process.exitValue() + ":\n"
                        + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
            } catch (IOException e) {
                return role + " exited with " + process.exitValue() + " (log unreadable: " + e + ")";
            }
        }

        boolean exitedByItself() {
            return !killed && process != null && !process.isAlive();
        }
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(PG_URL, "postgres", ""); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void execute(HikariDataSource db, String sql) throws SQLException {
        try (Connection c = db.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(HikariDataSource db, String sql) {
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e, e);
        }
    }

    private static String text(HikariDataSource db, String sql) throws SQLException {
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Set<String> strings(HikariDataSource db, String sql) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
