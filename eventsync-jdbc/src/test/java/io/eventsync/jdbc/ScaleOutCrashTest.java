package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 9's scale-out crash test on the embedded log. Four writer threads here commit at least 20,000
 * business changes of 1,000 accounts (updates and deletes) with their outbox rows into a PostgreSQL
 * source; about 0.5% of the events are poison, which the copy's handler rejects (or fails on every
 * attempt) until the test clears the poison table. One child JVM runs the relay; three child JVMs are
 * consumers of one embedded-log group (one active, two standbys that take over through the 1 s group
 * lease), all applying to one PostgreSQL copy through Dispatcher + JdbcApplyScope (checking parked keys in
 * the apply transaction) + CopyTable. Children are SIGKILLed at random, at least 20 times, and restarted.
 *
 * <p>Before the poison is cleared, every key is exactly "applied 1..f-1, then letters f..last" (a FAILED
 * letter at f, HELD ones behind it, one letter per event). Then a dispatcher that consumes nothing (as
 * {@code eventsync dlq replay} does) replays every FAILED letter, and at the end: no letter is left, the
 * copy equals the source row for row, the inbox and the apply log hold each event once, each key's
 * versions were applied in commit order as exactly 1, 2, ..., last (so none was skipped as stale, which
 * under per-key order cannot happen), and no event was applied while a parking letter of its key was
 * ahead of it.
 */
@Tag("database")
@Tag("crash")
class ScaleOutCrashTest {
    private static final int WRITERS = 4;
    private static final int EVENTS = 20_000;
    private static final int ACCOUNTS = 1_000;
    private static final int CONSUMERS = 3;
    private static final int KILLS = 20;
    /** One event in this many is poison. */
    private static final int POISON_ONE_IN = 200;
    /** Writers pace themselves so the stream lasts through every kill and restart. */
    private static final double EVENTS_PER_SECOND = 260;
    private static final String COLUMNS = "account_id, balance_cents, owner_name, active, opened, status, version";
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();

    private final String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String source = "scale_src_" + suffix;
    private final String copy = "scale_copy_" + suffix;
    private final long seed = Long.getLong("scaleout.seed", System.nanoTime());
    private final Set<String> written = ConcurrentHashMap.newKeySet();
    private final Set<String> poisoned = ConcurrentHashMap.newKeySet();
    private final AtomicLong deletes = new AtomicLong();
    private final Map<String, Child> children = new LinkedHashMap<>();
    private int exited;
    private HikariDataSource sourceDb;
    private HikariDataSource copyDb;

    /** A child JVM in one slot ("relay", "c1".."c3"), restarted in the same slot after each kill. */
    private final class Child {
        final String slot;
        final Path log;
        int generation;
        Process process;

        Child(String slot) {
            this.slot = slot;
            this.log = Path.of("target", "scaleout-" + suffix + "-" + slot + ".log");
        }

        String node() {
            return slot + "#" + generation;
        }

        void start() throws IOException {
            generation++;
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), CrashNode.class.getName()));
            if (slot.equals("relay")) {
                command.addAll(List.of("relay", TestDb.PG_URL, source));
            } else {
                command.addAll(List.of("consumer", TestDb.PG_URL, source, copy, node()));
            }
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.redirectErrorStream(true);
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            Files.writeString(log, "==== start " + node() + " at " + Instant.now() + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            process = pb.start();
        }

        void kill() throws InterruptedException {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL on Linux
        }
    }

    @BeforeEach
    void createSchemas() throws Exception {
        TestDb.admin(TestDb.PG_URL, "postgres", "CREATE SCHEMA " + source);
        TestDb.admin(TestDb.PG_URL, "postgres", "CREATE SCHEMA " + copy);
        sourceDb = ScaleOutCopy.pool(TestDb.PG_URL + "?currentSchema=" + source, WRITERS + 1);
        copyDb = ScaleOutCopy.pool(TestDb.PG_URL + "?currentSchema=" + copy, WRITERS + 2);
        EventsyncSchema.install(sourceDb, SchemaNames.of(source));
        EventsyncSchema.install(copyDb, SchemaNames.of(copy));
        Accounts.copyTable().createTable(copyDb);
        ScaleOutCopy.createTables(copyDb);
        try (Connection c = sourceDb.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (account_id VARCHAR(255) PRIMARY KEY,"
                    + " balance_cents BIGINT, owner_name TEXT, active BOOLEAN, opened TIMESTAMPTZ, status VARCHAR(255),"
                    + " version BIGINT NOT NULL)");
            // The per-account version survives deletes, so a re-created account continues its sequence.
            st.execute("CREATE TABLE account_versions (account_id VARCHAR(255) PRIMARY KEY, version BIGINT NOT NULL)");
            st.execute("INSERT INTO account_versions SELECT 'acc-' || i, 0 FROM generate_series(0, " + (ACCOUNTS - 1)
                    + ") i");
        }
        Files.createDirectories(Path.of("target"));
        children.put("relay", new Child("relay"));
        for (int i = 1; i <= CONSUMERS; i++) {
            children.put("c" + i, new Child("c" + i));
        }
    }

    @AfterEach
    void dropSchemas() throws Exception {
        for (Child child : children.values()) {
            if (child.process != null) {
                child.kill();
            }
        }
        sourceDb.close();
        copyDb.close();
        if (Boolean.getBoolean("scaleout.keepSchemas")) {
            System.out.println("kept schemas " + source + " and " + copy);
            return;
        }
        TestDb.admin(TestDb.PG_URL, "postgres", "DROP SCHEMA IF EXISTS " + source + " CASCADE");
        TestDb.admin(TestDb.PG_URL, "postgres", "DROP SCHEMA IF EXISTS " + copy + " CASCADE");
    }

    @Test
    void copyEqualsSourceAfterTwentySigkillsOfRelayAndConsumersWithPoisonReplayedAtTheEnd() throws Exception {
        long started = System.nanoTime();
        System.out.println("scale-out crash test: seed " + seed + ", source " + source + ", copy " + copy
                + ", logs target/scaleout-" + suffix + "-*.log");
        AtomicBoolean failed = new AtomicBoolean();
        List<Thread> writers = new ArrayList<>();
        long nanosPerEvent = (long) (1e9 * WRITERS / EVENTS_PER_SECOND);
        for (int w = 0; w < WRITERS; w++) {
            Random random = new Random(seed + w);
            Thread t = new Thread(() -> write(EVENTS / WRITERS, nanosPerEvent, random, failed), "scaleout-writer-" + w);
            writers.add(t);
        }
        for (Child child : children.values()) {
            child.start();
        }
        writers.forEach(Thread::start);

        Random random = new Random(seed);
        Map<String, Integer> kills = new TreeMap<>();
        int killed = 0;
        while (killed < KILLS || writersAlive(writers)) {
            long target = progress() + 50 + random.nextInt(650);
            // A random moment while they work: after a random number of further events were taken (applied
            // or dead-lettered), or once the writers are done and everything was taken.
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(20))
                    .failFast("writer failed", failed::get)
                    .until(() -> restartExited() && (progress() >= target
                            || (!writersAlive(writers) && progress() >= written.size())));
            if (!writersAlive(writers) && killed >= KILLS) {
                break;
            }
            Child active = active();
            Child victim = victim(random, active);
            victim.kill();
            kills.merge(victim.slot.equals("relay") ? "relay" : victim == active ? "active" : "standby", 1, Integer::sum);
            killed++;
            victim.start();
        }
        for (Thread t : writers) {
            t.join();
        }
        assertThat(failed).isFalse();
        assertThat(written).hasSizeGreaterThanOrEqualTo(EVENTS);
        long writersDone = System.nanoTime();

        // Everything was taken: each event is applied (inbox) or a dead letter, never both.
        try {
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200))
                    .until(() -> restartExited() && progress() >= written.size());
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("the consumers did not take every event: " + stateForFailure(), e);
        }
        JdbcDeadLetters store = JdbcDeadLetters.create(copyDb, SchemaNames.of(copy));
        List<DeadLetter> letters = store.list(CrashNode.GROUP);
        long failedLetters = letters.stream().filter(l -> l.kind() == DeadLetter.Kind.FAILED).count();
        long heldLetters = letters.size() - failedLetters;
        assertThat(count(copyDb, "SELECT COUNT(*) - COUNT(DISTINCT event_id) FROM eventsync_dead_letters"))
                .as("letters per event").isZero();
        assertThat(strings(copyDb, "SELECT d.kind || ' letter ' || d.id || ' of ' || d.event_key || ' event ' || d.event_id"
                + " || ' applied by ' || a.node || ' at ' || a.applied_at || ', letter seq ' || d.seq"
                + " || ', first failure ' || d.first_failure FROM eventsync_dead_letters d"
                + " JOIN eventsync_inbox i ON i.subscription = d.subscription AND i.event_id = d.event_id"
                + " JOIN " + ScaleOutCopy.APPLY_LOG + " a ON a.event_id = d.event_id ORDER BY d.seq"))
                .as("events both applied and dead-lettered").isEmpty();
        // Good events fail only when the database refused them through every retry (a busy machine).
        long goodFailed = letters.stream().filter(l -> l.kind() == DeadLetter.Kind.FAILED)
                .filter(l -> !poisoned.contains(l.eventId())).count();
        assertThat(poisoned).as("no poison event was applied")
                .allMatch(id -> letters.stream().anyMatch(l -> l.eventId().equals(id)));
        Map<String, Long> last = lastVersions();
        assertThat(violationsBeforeReplay(letters, last)).as("keys before the replay").isEmpty();

        // The fix: the poison is gone, and a dispatcher that consumes nothing replays every FAILED letter
        // while the consumers keep running.
        execute(copyDb, "DELETE FROM " + ScaleOutCopy.POISON);
        long replayStarted = System.nanoTime();
        try (HikariDataSource replayDb = ScaleOutCopy.pool(TestDb.PG_URL + "?currentSchema=" + copy,
                ScaleOutCopy.LANES + 2);
             ScaleOutCopy replayer = new ScaleOutCopy(replayDb, SchemaNames.of(copy), "replay")) {
            List<CompletableFuture<Boolean>> replays = new ArrayList<>();
            for (DeadLetter l : letters) {
                if (l.kind() == DeadLetter.Kind.FAILED) {
                    replays.add(replayer.dispatcher.replay(l.id()));
                }
            }
            CompletableFuture.allOf(replays.toArray(new CompletableFuture[0])).get(180, TimeUnit.SECONDS);
            assertThat(replays).as("every replay released its key").allMatch(f -> f.join());
            await().atMost(Duration.ofSeconds(300)).pollInterval(Duration.ofMillis(200))
                    .until(() -> count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters") == 0);
        }
        long replayMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - replayStarted);

        assertThat(count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters")).as("letters left").isZero();
        assertThat(differences()).as("rows that differ between source and copy").isZero();
        long rows = count(sourceDb, "SELECT COUNT(*) FROM accounts");
        assertThat(count(copyDb, "SELECT COUNT(*) FROM accounts_copy")).isEqualTo(rows);
        assertThat(strings(copyDb, "SELECT event_id FROM eventsync_inbox")).as("inbox: each event once")
                .hasSize(written.size()).containsExactlyInAnyOrderElementsOf(written);
        assertThat(count(copyDb, "SELECT COUNT(*) FROM " + ScaleOutCopy.APPLY_LOG)).as("apply log rows")
                .isEqualTo(written.size());
        assertThat(strings(copyDb, "SELECT id || ' ' || node || ' ' || subject || '#' || version || ': ' || outcome"
                + " FROM " + ScaleOutCopy.APPLY_LOG + " WHERE outcome <> 'applied'")).as("stale skips").isEmpty();
        assertThat(strings(copyDb, "SELECT id || ' ' || node || ' ' || subject || '#' || version || ' own '"
                + " || COALESCE(own_letter, '-') || ' failed ahead ' || failed_ahead || ' letters ahead ' || letters_ahead"
                + " FROM " + ScaleOutCopy.APPLY_LOG + " WHERE letters_ahead > 0"))
                .as("applies past a parking letter of their key").isEmpty();
        assertThat(violationsAfterReplay(last)).as("per-key apply order").isEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> count(sourceDb, "SELECT COUNT(*) FROM eventsync_outbox") == 0);

        Map<String, Long> epochs = epochs();
        long groupTakeovers = epochs.getOrDefault("log:" + CrashNode.TOPIC + ":" + CrashNode.GROUP, 1L) - 1;
        long relayTakeovers = epochs.getOrDefault("relay:" + CrashNode.SOURCE, 1L) - 1;
        System.out.printf("scale-out crash test figures: events %d (poison %d, deletes %d), kills %d %s,"
                        + " takeovers: group lease %d, relay lease %d (lease epochs %s), letters before replay %d"
                        + " (FAILED %d replayed, of them %d not poison, HELD %d released) in %d ms, children that exited"
                        + " on their own %d, apply-log rows %d, rows compared %d,"
                        + " writers %d s, runtime %d s, seed %d%n",
                written.size(), poisoned.size(), deletes.get(),
                killed, kills, groupTakeovers, relayTakeovers, epochs, letters.size(), failedLetters, goodFailed,
                heldLetters, replayMillis, exited, count(copyDb, "SELECT COUNT(*) FROM " + ScaleOutCopy.APPLY_LOG), rows,
                TimeUnit.NANOSECONDS.toSeconds(writersDone - started),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started), seed);
        assertThat(killed).isGreaterThanOrEqualTo(KILLS);
        assertThat(groupTakeovers).as("standbys took over the group").isPositive();
        assertThat(relayTakeovers).as("restarted relays took over the outbox").isPositive();
        assertThat(failedLetters).as("poison parked keys").isPositive();
    }

    /**
     * Starts again a child that exited by itself (it could not start: the server refused connections);
     * true, so it can run inside a polled condition.
     */
    private boolean restartExited() throws IOException {
        for (Child child : children.values()) {
            if (!child.process.isAlive()) {
                exited++;
                child.start();
            }
        }
        return true;
    }

    /** What the consumers have not taken, and where they are, for a failure message. */
    private String stateForFailure() {
        Set<String> taken = new java.util.HashSet<>(strings(copyDb, "SELECT event_id FROM eventsync_inbox"));
        taken.addAll(strings(copyDb, "SELECT event_id FROM eventsync_dead_letters"));
        List<String> missing = written.stream().filter(id -> !taken.contains(id)).sorted().toList();
        String ids = missing.stream().limit(20).map(id -> "'" + id + "'").collect(Collectors.joining(", "));
        StringBuilder out = new StringBuilder();
        out.append(missing.size()).append(" of ").append(written.size()).append(" events not taken");
        if (!missing.isEmpty()) {
            out.append("\nfirst ones in the log: ").append(strings(sourceDb, "SELECT log_offset || ' ' || event_key || ' '"
                    + " || event_id FROM eventsync_log WHERE event_id IN (" + ids + ") ORDER BY log_offset"));
            out.append("\nstill in the outbox: ").append(strings(sourceDb, "SELECT id || ' ' || subject || '#'"
                    + " || event_sequence FROM eventsync_outbox WHERE event_id IN (" + ids + ") ORDER BY id"));
        }
        out.append("\nlog head: ").append(strings(sourceDb, "SELECT topic || ' ' || next_offset FROM eventsync_log_head"));
        out.append("\noffsets: ").append(strings(copyDb, "SELECT consumer_group || ' ' || log_partition || ' '"
                + " || next_offset FROM eventsync_offsets"));
        out.append("\nleases: ").append(strings(sourceDb, "SELECT name || ' ' || owner || ' epoch ' || epoch"
                + " || ' expires ' || expires_at FROM eventsync_lease"));
        out.append("\nletters: ").append(count(copyDb, "SELECT COUNT(*) FROM eventsync_dead_letters"))
                .append(", inbox ").append(count(copyDb, "SELECT COUNT(*) FROM eventsync_inbox"));
        out.append("\n").append(tails());
        return out.toString();
    }

    /** Half the kills hit the active consumer, a quarter the relay, a quarter a standby. */
    private Child victim(Random random, Child active) {
        int r = random.nextInt(4);
        if (r == 0) {
            return children.get("relay");
        }
        if (r < 3 && active != null) {
            return active;
        }
        List<Child> standbys = children.values().stream()
                .filter(c -> !c.slot.equals("relay") && c != active).toList();
        return standbys.get(random.nextInt(standbys.size()));
    }

    /** The consumer that applied the latest event (the group's lease holder, give or take a takeover). */
    private Child active() {
        List<String> node = strings(copyDb, "SELECT node FROM " + ScaleOutCopy.APPLY_LOG + " ORDER BY id DESC LIMIT 1");
        if (node.isEmpty()) {
            return null;
        }
        Child child = children.get(node.get(0).substring(0, node.get(0).indexOf('#')));
        return child == null || !child.node().equals(node.get(0)) ? null : child;
    }

    private static boolean writersAlive(List<Thread> writers) {
        return writers.stream().anyMatch(Thread::isAlive);
    }

    /** Events the consumers have taken: applied (inbox) or stored as a dead letter. */
    private long progress() {
        return count(copyDb, "SELECT (SELECT COUNT(*) FROM eventsync_inbox) + (SELECT COUNT(*) FROM eventsync_dead_letters)");
    }

    /**
     * Before the replay each key is "applied 1..f-1, letters f..last": its first letter is the FAILED
     * one, the others are HELD, in version order, one per version, and nothing after f was applied.
     */
    private List<String> violationsBeforeReplay(List<DeadLetter> letters, Map<String, Long> last) throws Exception {
        Map<String, List<DeadLetter>> byKey = new HashMap<>();
        for (DeadLetter l : letters) {
            byKey.computeIfAbsent(l.key(), k -> new ArrayList<>()).add(l);
        }
        Map<String, List<Long>> applied = appliedVersions();
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : last.entrySet()) {
            String key = e.getKey();
            List<DeadLetter> mine = byKey.getOrDefault(key, List.of());
            List<Long> versions = new ArrayList<>();
            for (DeadLetter l : mine) {
                versions.add(CODEC.decode(l.bytes()).getSequence());
            }
            long firstLetter = versions.isEmpty() ? e.getValue() + 1 : versions.get(0);
            List<Long> appliedHere = applied.getOrDefault(key, List.of());
            if (!appliedHere.equals(range(1, firstLetter - 1))) {
                out.add(key + ": applied " + appliedHere + " but letters start at " + firstLetter);
            }
            if (!versions.equals(range(firstLetter, versions.isEmpty() ? firstLetter - 1 : e.getValue()))) {
                out.add(key + ": letters of versions " + versions + ", last version " + e.getValue());
            }
            List<String> kinds = mine.stream().map(l -> l.kind().name()).toList();
            for (int i = 0; i < kinds.size(); i++) {
                if (!kinds.get(i).equals(i == 0 ? "FAILED" : "HELD") || !mine.get(i).parksKey()) {
                    out.add(key + ": letter kinds " + kinds + " parks " + mine.stream().map(DeadLetter::parksKey).toList());
                    break;
                }
            }
        }
        return out;
    }

    /** After the replay each key's applies, in commit order, are exactly its versions 1..last. */
    private List<String> violationsAfterReplay(Map<String, Long> last) throws Exception {
        Map<String, List<Long>> applied = appliedVersions();
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Long> e : last.entrySet()) {
            List<Long> versions = applied.getOrDefault(e.getKey(), List.of());
            if (!versions.equals(range(1, e.getValue()))) {
                out.add(e.getKey() + ": applied in order " + versions + ", last version " + e.getValue());
            }
        }
        return out;
    }

    private static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long v = from; v <= to; v++) {
            out.add(v);
        }
        return out;
    }

    /** Per key, the versions applied (not skipped), in the order their transactions committed. */
    private Map<String, List<Long>> appliedVersions() throws SQLException {
        Map<String, List<Long>> out = new HashMap<>();
        try (Connection c = copyDb.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT subject, version FROM " + ScaleOutCopy.APPLY_LOG
                     + " WHERE outcome = 'applied' ORDER BY subject, n")) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
            }
        }
        return out;
    }

    /** Each account's last committed version (0 for an account never written). */
    private Map<String, Long> lastVersions() throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = sourceDb.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT account_id, version FROM account_versions")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    private Map<String, Long> epochs() throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (Connection c = sourceDb.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name, epoch FROM eventsync_lease")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** Business change and its outbox row in one transaction; a poison event is listed in the copy first. */
    private void write(int events, long nanosPerEvent, Random random, AtomicBoolean failed) {
        Outbox outbox = Outbox.of(CrashNode.SOURCE, SchemaNames.of(source));
        long next = System.nanoTime();
        try {
            for (int i = 0; i < events; i++) {
                next += nanosPerEvent;
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // pacing the stream, not waiting for a condition
                }
                String id = "acc-" + random.nextInt(ACCOUNTS);
                boolean poison = random.nextInt(POISON_ONE_IN) == 0;
                boolean reject = random.nextBoolean();
                int deleteRoll = random.nextInt(100);
                long balance = random.nextInt(1_000_000);
                try (Connection c = sourceDb.getConnection()) {
                    c.setAutoCommit(false);
                    long version = lockNextVersion(c, id);
                    boolean exists = exists(c, id);
                    AccountChanged payload = payload(id, balance);
                    Envelope event;
                    if (exists && deleteRoll < 5) {
                        update(c, "DELETE FROM accounts WHERE account_id = ?", id);
                        event = Events.tombstone(CrashNode.SOURCE, id, version, payload);
                    } else {
                        upsert(c, payload, version);
                        event = Events.create(CrashNode.SOURCE, id, version, payload);
                    }
                    if (poison) {
                        // Listed before the event exists, so no consumer can apply it first.
                        try (Connection p = copyDb.getConnection();
                             PreparedStatement ps = p.prepareStatement("INSERT INTO " + ScaleOutCopy.POISON + " VALUES (?, ?)")) {
                            ps.setString(1, event.getId());
                            ps.setString(2, reject ? "reject" : "throw");
                            ps.executeUpdate();
                        }
                        poisoned.add(event.getId());
                    }
                    outbox.append(c, event);
                    c.commit();
                    written.add(event.getId());
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

    private static void update(Connection c, String sql, String arg) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, arg);
            ps.executeUpdate();
        }
    }

    /** Rows that differ between source and copy, both ways, over every copied column. */
    private long differences() {
        String src = "SELECT " + COLUMNS + " FROM " + source + ".accounts";
        String cp = "SELECT " + COLUMNS + " FROM " + copy + ".accounts_copy";
        return count(sourceDb, "SELECT (SELECT COUNT(*) FROM (" + src + " EXCEPT " + cp + ") a)"
                + " + (SELECT COUNT(*) FROM (" + cp + " EXCEPT " + src + ") b)");
    }

    private void execute(HikariDataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private long count(HikariDataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e + "\n" + tails(), e);
        }
    }

    private List<String> strings(HikariDataSource ds, String sql) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e + "\n" + tails(), e);
        }
    }

    private String tails() {
        return children.values().stream().map(child -> {
            try {
                List<String> lines = Files.readAllLines(child.log);
                return "---- " + child.slot + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20),
                        lines.size()));
            } catch (IOException e) {
                return "---- " + child.slot + ": <no log: " + e + ">";
            }
        }).collect(Collectors.joining("\n"));
    }
}
