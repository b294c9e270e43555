package io.eventsync.bench;

import com.google.protobuf.Descriptors.Descriptor;
import com.zaxxer.hikari.HikariDataSource;
import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.net.URI;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium's side of the comparison, written as a competent user would: the writers insert an outbox
 * row ({@code dbz_outbox}, insert-only, in a publication) in their business transaction; Debezium 3.6.1's
 * embedded engine reads it through {@code pgoutput} from a slot created before the first write; the
 * change consumer applies each Debezium batch in one copy transaction: the batch's event ids go into
 * an inbox in one statement (the database returns the new ones, so a redelivered event is skipped),
 * the new events are upserted into the copy as one JDBC batch with a version guard, commit, and only
 * then the batch is marked processed (Debezium's offsets follow the commit: redelivery, never loss).
 *
 * <p>Tuning, stated so the comparison is fair: {@code poll.interval.ms=5} (the default 500 ms makes the
 * engine sleep that long whenever its queue runs empty, which would be the whole freshness figure),
 * {@code max.batch.size} default 2048, memory offset store, {@code snapshot.mode=no_data}.
 */
final class DebeziumCopy {
    /** Upsert with a version guard: an older version never overwrites a newer one. Shared with {@link DualWrite}. */
    static final String UPSERT = "INSERT INTO accounts_copy (id, balance, owner, version) VALUES (?, ?, ?, ?)"
            + " ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, owner = EXCLUDED.owner,"
            + " version = EXCLUDED.version WHERE accounts_copy.version < EXCLUDED.version";
    private static final String INBOX = "INSERT INTO dbz_inbox (event_id) SELECT unnest(?::varchar[])"
            + " ON CONFLICT DO NOTHING RETURNING event_id";

    /** A pipeline and what to drop after it. */
    record Closing(EndToEndRig.Pipeline pipeline, AutoCloseable cleanup) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            cleanup.close();
        }
    }

    record Change(String eventId, String id, long version, long balance, String owner) {}

    private final EndToEndRig rig;
    private final HikariDataSource copy;

    DebeziumCopy(EndToEndRig rig, HikariDataSource copy) {
        this.rig = rig;
        this.copy = copy;
    }

    /** The consumer's inbox and the copy table. */
    static void createCopyTables(HikariDataSource copy) throws SQLException {
        try (Connection c = copy.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE dbz_inbox (event_id VARCHAR(64) PRIMARY KEY)");
        }
        createCopyTable(copy);
    }

    static void createCopyTable(HikariDataSource copy) throws SQLException {
        try (Connection c = copy.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts_copy (id VARCHAR(64) PRIMARY KEY, balance BIGINT, owner VARCHAR(200),"
                    + " version BIGINT NOT NULL)");
        }
    }

    static Closing pipeline(EndToEndRig rig, EndToEndRig.Pools pools) throws SQLException {
        String suffix = EndToEndRig.suffix();
        String slot = "es_bench_dbz_" + suffix;
        String publication = "es_bench_dbz_" + suffix;
        try (Connection c = pools.source().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE dbz_outbox (event_id VARCHAR(64) PRIMARY KEY, aggregate_id VARCHAR(64) NOT NULL,"
                    + " version BIGINT NOT NULL, balance BIGINT, owner VARCHAR(200), payload BYTEA NOT NULL)");
            st.execute("CREATE PUBLICATION " + publication + " FOR TABLE " + pools.sourceSchema()
                    + ".dbz_outbox WITH (publish = 'insert')");
            // Created before the backlog is written, so the engine's first start streams the backlog.
            st.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
        createCopyTables(pools.copy());
        DebeziumCopy consumer = new DebeziumCopy(rig, pools.copy());
        Properties props = properties(slot, publication, pools.sourceSchema() + ".dbz_outbox");
        EndToEndRig.Pipeline pipeline = new EndToEndRig.Pipeline() {
            @Override
            public EndToEndRig.EventWrite write() {
                Descriptor type = rig.accountType();
                return (c, event, account) -> {
                    try (PreparedStatement insert = c.prepareStatement("INSERT INTO dbz_outbox (event_id, aggregate_id,"
                            + " version, balance, owner, payload) VALUES (?, ?, ?, ?, ?, ?)")) {
                        insert.setString(1, event.getId());
                        insert.setString(2, event.getSubject());
                        insert.setLong(3, event.getSequence());
                        insert.setLong(4, (Long) account.getField(type.findFieldByName("balance")));
                        insert.setString(5, (String) account.getField(type.findFieldByName("owner")));
                        insert.setBytes(6, event.toByteArray()); // the same bytes eventsync carries
                        insert.executeUpdate();
                    }
                };
            }

            @Override
            public void awaitPublished(long written) {
                // Nothing to wait for: the backlog waits in the WAL, as it does while a Debezium engine is down.
            }

            @Override
            public AutoCloseable startConsumer() {
                return consumer.start(props);
            }
        };
        return new Closing(pipeline, () -> dropSlot(pools.source(), slot, publication));
    }

    private static Properties properties(String slot, String publication, String table) {
        URI url = URI.create(EndToEndRig.PG_URL.substring("jdbc:".length()));
        Properties p = new Properties();
        p.setProperty("name", "eventsync-bench-debezium");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", url.getHost());
        p.setProperty("database.port", String.valueOf(url.getPort()));
        p.setProperty("database.user", "postgres");
        p.setProperty("database.password", "");
        p.setProperty("database.dbname", url.getPath().substring(1));
        p.setProperty("topic.prefix", "bench");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", publication);
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", table);
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("poll.interval.ms", "5");
        return p;
    }

    /** Runs the engine on a named thread; the handle closes it and waits for the thread. */
    private AutoCloseable start(Properties props) {
        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(props)
                .using((success, message, error) -> {
                    if (!success) {
                        System.err.println("Debezium engine stopped: " + message);
                        if (error != null) {
                            error.printStackTrace();
                        }
                    }
                })
                .notifying(this::handleBatch)
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-debezium-engine"));
        executor.execute(engine);
        return () -> {
            engine.close();
            executor.shutdown();
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                System.err.println("the Debezium engine did not stop within 60 s");
            }
        };
    }

    private void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                             DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        List<Change> changes = new ArrayList<>(records.size());
        for (RecordChangeEvent<SourceRecord> r : records) {
            Object value = r.record().value();
            Struct after = value instanceof Struct s ? s.getStruct("after") : null;
            if (after != null) {
                changes.add(new Change(after.getString("event_id"), after.getString("aggregate_id"),
                        after.getInt64("version"), after.getInt64("balance"), after.getString("owner")));
            }
        }
        Set<String> fresh = changes.isEmpty() ? Set.of() : apply(changes);
        for (RecordChangeEvent<SourceRecord> r : records) {
            committer.markProcessed(r);
        }
        committer.markBatchFinished();
        for (Change change : changes) {
            if (fresh.contains(change.eventId())) {
                rig.copyCommitted(change.eventId());
            }
        }
    }

    /** One copy transaction for the batch; returns the ids that were new (the others were applied before). */
    Set<String> apply(List<Change> changes) {
        try (Connection c = copy.getConnection()) {
            c.setAutoCommit(false);
            try {
                Set<String> fresh = new HashSet<>();
                try (PreparedStatement inbox = c.prepareStatement(INBOX)) {
                    Array ids = c.createArrayOf("varchar", changes.stream().map(Change::eventId).toArray());
                    inbox.setArray(1, ids);
                    try (ResultSet rs = inbox.executeQuery()) {
                        while (rs.next()) {
                            fresh.add(rs.getString(1));
                        }
                    }
                }
                try (PreparedStatement upsert = c.prepareStatement(UPSERT)) {
                    for (Change change : changes) {
                        if (fresh.contains(change.eventId())) {
                            upsert.setString(1, change.id());
                            upsert.setLong(2, change.balance());
                            upsert.setString(3, change.owner());
                            upsert.setLong(4, change.version());
                            upsert.addBatch();
                        }
                    }
                    upsert.executeBatch();
                }
                c.commit();
                return fresh;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            // Not marked processed: the engine stops and the run fails loudly instead of losing events.
            throw new IllegalStateException("applying a Debezium batch of " + changes.size() + " events failed: " + e, e);
        }
    }

    private static void dropSlot(HikariDataSource source, String slot, String publication) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (Connection c = source.getConnection(); Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
                    if (!rs.next()) {
                        break;
                    }
                    if (!rs.getBoolean(1)) {
                        st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("slot " + slot + " still active 30 s after the engine stopped");
                }
                Thread.sleep(100); // benchmark teardown: waiting for the walsender to let go of the slot
            }
            st.execute("DROP PUBLICATION IF EXISTS " + publication);
        }
    }
}
