package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.TestDatabase.Kind;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.jdbc.test.Owner;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A diff taken while a real pipeline runs (PostgreSQL source and outbox, relay, embedded log,
 * dispatcher, CopyTable on a MariaDB copy) and writers change and create rows at full speed: the
 * changes in flight are never reported; a row changed behind eventsync's back is reported, exactly
 * that key; a repair fixes it while the writers go on, and the next diff matches.
 */
@Tag("database")
class LiveDiffDatabaseTest {
    private static final String SOURCE = "accounts";
    private static final String TOPIC = "accounts.live";
    private static final String GROUP = "accounts-copy";
    private static final int QUIET_KEYS = 50;
    private static final int HOT_KEYS = 600;
    /** Writers also create keys up to here while the diffs run. */
    private static final int ALL_HOT_KEYS = 800;
    private static final int MAX_BEHIND = 300;
    private static final TableProjection SOURCE_SIDE = TableProjection.of("accounts", "account_id", "balance_cents",
            "owner_name", "version");
    private static final TableProjection COPY_SIDE = TableProjection.of("accounts_copy", "account_id", "balance_cents",
            "owner_name", "version");

    private final AtomicLong written = new AtomicLong();
    private final AtomicBoolean writing = new AtomicBoolean(true);

    @Test
    void aDiffWhileWritersRunReportsOnlyWhatChangedBehindEventsyncsBackAndARepairFixesIt() throws Exception {
        try (TestDatabase source = TestDatabase.create(Kind.POSTGRES); TestDatabase copy = TestDatabase.create(Kind.MARIADB)) {
            source.execute("CREATE TABLE accounts (account_id VARCHAR(64) PRIMARY KEY, balance_cents BIGINT NOT NULL,"
                    + " owner_name VARCHAR(200) NOT NULL, version BIGINT NOT NULL)");
            CopyTable copyTable = CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                    .key("account_id", "account_id").column("balance_cents").column("owner_name", "owner.name")
                    .versionColumn("version").build();
            copyTable.createTable(copy.dataSource());
            Outbox outbox = Outbox.of(SOURCE, source.names());
            EmbeddedLog log = EmbeddedLog.builder().dataSource(source.dataSource()).names(source.names())
                    .offsets(Offsets.in(copy.dataSource(), copy.names())).build();
            Inbox inbox = Inbox.builder(copy.dataSource()).schema(copy.names()).build();
            JdbcApplyScope scope = JdbcApplyScope.builder(inbox).build();
            Dispatcher dispatcher = Dispatcher.builder(GROUP)
                    .handlers(copyTable.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                    .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                    .codec(EnvelopeCodec.defaults())
                    .validator(EnvelopeValidator.defaults())
                    .applyScope(scope)
                    .deadLetters(JdbcDeadLetters.create(copy.dataSource(), copy.names()))
                    .lanes(4)
                    .build();
            Relay relay = Relay.builder().dataSource(source.dataSource()).names(source.names()).source(SOURCE)
                    .publisher(log.publisher(TOPIC)).build().start();
            Subscription subscription = log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), dispatcher);
            ExecutorService writers = Executors.newFixedThreadPool(3, r -> new Thread(r, "test-writer"));
            try {
                for (int i = 0; i < QUIET_KEYS; i++) {
                    write(source, outbox, quietKey(i), i);
                }
                for (int i = 0; i < HOT_KEYS; i++) {
                    write(source, outbox, hotKey(i), i);
                }
                await().atMost(Duration.ofSeconds(120))
                        .until(() -> count(copy, "SELECT COUNT(*) FROM accounts_copy") == QUIET_KEYS + HOT_KEYS);
                List<Future<?>> running = new ArrayList<>();
                for (int w = 0; w < 3; w++) {
                    long seed = w;
                    running.add(writers.submit(() -> writeUntilStopped(source, copy, outbox, seed)));
                }
                long start = written.get();
                await().atMost(Duration.ofSeconds(60)).until(() -> written.get() > start + 100);
                TableDiff live = TableDiff.builder().chunkSize(100).leafRows(16).versionColumns("version", "version")
                        .live(LiveCheck.builder().outbox(outbox).inbox(inbox, GROUP).timeout(Duration.ofSeconds(30)).build())
                        .build();

                long before = written.get();
                DiffReport whileWriting = compare(live, source, copy);
                assertThat(written.get()).as("writers changed rows while the diff ran").isGreaterThan(before);
                assertThat(whileWriting.differences()).as("changes in flight are not differences").isEmpty();
                assertThat(whileWriting.verdict()).isEqualTo("MATCH");

                copy.execute("UPDATE accounts_copy SET balance_cents = -1 WHERE account_id = '" + quietKey(42) + "'");
                DiffReport changed = compare(live, source, copy);
                assertThat(changed.differences()).extracting(KeyDifference::key, KeyDifference::kind)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple(quietKey(42), KeyDifference.Kind.VALUES_DIFFER));
                assertThat(changed.differences().get(0).source()).containsEntry("balance_cents", "42");
                assertThat(changed.differences().get(0).copy()).containsEntry("balance_cents", "-1");

                TableDiff repair = TableDiff.builder().chunkSize(100).leafRows(16).versionColumns("version", "version")
                        .live(LiveCheck.builder().outbox(outbox).inbox(inbox, GROUP).timeout(Duration.ofSeconds(30)).build())
                        .repair(TableDiff.Repair.APPLY, copy.names()).build();
                DiffReport repaired = compare(repair, source, copy);
                assertThat(repaired.repairs().keys()).extracting(KeyRepair::key, KeyRepair::outcome)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple(quietKey(42), KeyRepair.Outcome.CHANGED));

                DiffReport after = compare(live, source, copy);
                assertThat(after.verdict()).as(after.differences().toString()).isEqualTo("MATCH");
                writing.set(false);
                for (Future<?> f : running) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                writing.set(false);
                writers.shutdownNow();
                writers.awaitTermination(30, TimeUnit.SECONDS);
                subscription.close();
                dispatcher.close();
                relay.close();
                scope.close();
                log.close();
            }
        }
    }

    private static DiffReport compare(TableDiff diff, TestDatabase source, TestDatabase copy) throws SQLException {
        try (Connection s = source.dataSource().getConnection(); Connection c = copy.dataSource().getConnection()) {
            return diff.compare("accounts -> accounts_copy", s, SOURCE_SIDE, c, COPY_SIDE);
        }
    }

    /**
     * Writes as fast as the pipeline applies: at most {@link #MAX_BEHIND} events ahead of the copy. On this
     * shared machine the writers outrun one consumer, and a copy minutes behind would be a copy that
     * differs once the diff's timeout has passed, which is not what this test is about.
     */
    private void writeUntilStopped(TestDatabase source, TestDatabase copy, Outbox outbox, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        for (long mine = 0; writing.get(); mine++) {
            if (mine % 20 == 0) {
                await().atMost(Duration.ofSeconds(120)).until(() -> !writing.get()
                        || written.get() - count(copy, "SELECT COUNT(*) FROM eventsync_inbox") <= MAX_BEHIND);
            }
            try {
                write(source, outbox, hotKey(random.nextInt(ALL_HOT_KEYS)), random.nextInt(1_000_000));
            } catch (SQLException e) {
                if (!writing.get()) {
                    return; // the pools close at the end of the test
                }
                String state = String.valueOf(e.getSQLState());
                if (!state.startsWith("40") && !state.equals("23505")) { // deadlock, two writers creating one key
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** The source service: the row at its next version and the event with that version, in one transaction. */
    private void write(TestDatabase source, Outbox outbox, String id, long balance) throws SQLException {
        try (Connection c = source.dataSource().getConnection()) {
            c.setAutoCommit(false);
            try {
                long version;
                try (PreparedStatement ps = c.prepareStatement("SELECT version FROM accounts WHERE account_id = ? FOR UPDATE")) {
                    ps.setString(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        version = rs.next() ? rs.getLong(1) + 1 : 1;
                    }
                }
                String owner = "owner " + id + " v" + version;
                try (PreparedStatement ps = c.prepareStatement(version == 1
                        ? "INSERT INTO accounts (balance_cents, owner_name, version, account_id) VALUES (?, ?, ?, ?)"
                        : "UPDATE accounts SET balance_cents = ?, owner_name = ?, version = ? WHERE account_id = ?")) {
                    ps.setLong(1, balance);
                    ps.setString(2, owner);
                    ps.setLong(3, version);
                    ps.setString(4, id);
                    ps.executeUpdate();
                }
                AccountChanged payload = AccountChanged.newBuilder().setAccountId(id).setBalanceCents(balance)
                        .setOwner(Owner.newBuilder().setId("o-" + id).setName(owner)).build();
                outbox.append(c, Events.create(SOURCE, id, version, payload));
                c.commit();
                written.incrementAndGet();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private static String quietKey(int i) {
        return String.format("q%04d", i);
    }

    private static String hotKey(int i) {
        return String.format("h%04d", i);
    }

    private static long count(TestDatabase db, String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); var st = c.createStatement(); var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
