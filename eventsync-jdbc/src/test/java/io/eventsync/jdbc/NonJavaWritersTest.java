package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.internal.Tables;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The outbox contract (docs/outbox-contract.md) from other languages: the Python and Node writers in
 * examples/writers change a business table and write their events in one transaction each, on
 * PostgreSQL; the Java relay and consumer keep a copy equal to that table, and the writers wake the
 * relay through the schema's {@code eventsync_notify(source)} function, on the channel it listens on. Needs python3-protobuf, python3-psycopg2 and
 * protobuf-compiler (Debian) and `npm ci` in examples/writers/node: `.ci/run` installs them.
 */
@Tag("database")
class NonJavaWritersTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final Path WRITERS = REPO.resolve("examples/writers");
    private static final String PYTHON = "/usr/bin/python3";
    private static final String SOURCE = "accounts";

    private final String schema = "writers_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private HikariDataSource db;

    @TempDir
    Path generated;

    @BeforeEach
    void createSchema() throws Exception {
        TestDb.admin(TestDb.PG_URL, "postgres", "CREATE SCHEMA " + schema);
        db = TestDb.pool(TestDb.PG_URL + "?currentSchema=" + schema, "postgres", 8);
        EventsyncSchema.install(db, SchemaNames.of(schema));
        Accounts.copyTable().createTable(db);
        try (Connection c = db.getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE accounts (account_id VARCHAR(255) PRIMARY KEY, balance_cents BIGINT NOT NULL,"
                    + " version BIGINT NOT NULL)");
        }
    }

    @AfterEach
    void dropSchema() throws Exception {
        if (db != null) {
            db.close();
        }
        TestDb.admin(TestDb.PG_URL, "postgres", "DROP SCHEMA " + schema + " CASCADE");
    }

    /** Runs a command to its end; fails naming the command and its output unless it exits 0. */
    private static String run(Path dir, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError(command[0] + " is not installed (run .ci/run, which installs it): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("%s finished", String.join(" ", command)).isTrue();
        assertThat(p.exitValue()).as("exit code of %s; output:%n%s", String.join(" ", command), out).isZero();
        return out.trim();
    }

    private void generatePython() throws Exception {
        run(REPO, "protoc", "-I", "eventsync-core/src/main/proto", "-I", "eventsync-jdbc/src/test/proto",
                "--python_out=" + generated, "eventsync/v1/envelope.proto", "eventsync/jdbctest/accounts.proto");
    }

    private static Map<String, List<Long>> rows(HikariDataSource db, String sql) throws Exception {
        Map<String, List<Long>> out = new TreeMap<>();
        try (Connection c = db.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), List.of(rs.getLong(2), rs.getLong(3)));
            }
        }
        return out;
    }

    @Test
    void pythonAndNodeWritersKeepACopyEqualToTheirSource() throws Exception {
        generatePython();
        assertThat(Files.isDirectory(WRITERS.resolve("node/node_modules")))
                .as("npm ci was run in %s (.ci/run does it)", WRITERS.resolve("node")).isTrue();
        run(WRITERS.resolve("python"), PYTHON, "write_accounts.py",
                "host=127.0.0.1 port=5432 dbname=test user=postgres", schema, SOURCE, "40", "300",
                generated.toString());
        run(WRITERS.resolve("node"), "node", "write_accounts.js", "postgresql://postgres@127.0.0.1:5432/test",
                schema, SOURCE, "40", "300", REPO.resolve("eventsync-core/src/main/proto").toString(),
                REPO.resolve("eventsync-jdbc/src/test/proto").toString());

        SchemaNames names = SchemaNames.of(schema);
        EmbeddedLog log = EmbeddedLog.builder().dataSource(db).names(names).build();
        CopyTable copy = Accounts.copyTable();
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(db, names);
        try (Relay relay = Relay.builder().dataSource(db).names(names).source(SOURCE)
                     .publisher(log.publisher(SOURCE)).build().start();
             JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db).schema(names).build())
                     .deadLetters(deadLetters).build();
             Dispatcher dispatcher = Dispatcher.builder("copy")
                     .handlers(copy.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults()).build())
                     .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                     .codec(EnvelopeCodec.defaults()).validator(EnvelopeValidator.defaults())
                     .applyScope(scope).deadLetters(deadLetters).build();
             Subscription ignored = log.subscribe(SubscriptionSpec.fanout(SOURCE, "copy"), dispatcher)) {
            Map<String, List<Long>> source = rows(db, "SELECT account_id, balance_cents, version FROM accounts");
            assertThat(source).hasSizeGreaterThan(60);
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    rows(db, "SELECT account_id, balance_cents, version FROM accounts_copy").equals(source));
            assertThat(deadLetters.list("copy")).as("every event from Python and Node was valid").isEmpty();
        }
        try (Connection c = db.getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM eventsync_inbox")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(600);
        }
    }

    @Test
    void theWritersWakeTheRelayThroughTheSchemasNotifyFunction() throws Exception {
        generatePython();
        SchemaNames names = SchemaNames.of(schema);
        String channel;
        try (Connection c = db.getConnection()) {
            channel = Outbox.channel(Tables.resolve(c, names), SOURCE);
        }
        EmbeddedLog log = EmbeddedLog.builder().dataSource(db).names(names).build();
        try (Relay ignored = Relay.builder().dataSource(db).names(names).source(SOURCE)
                     .publisher(log.publisher(SOURCE)).build().start();
             Connection listener = DriverManager.getConnection(TestDb.PG_URL, "postgres", "")) {
            // The relay records its channel when it starts; the function reads it from there.
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    rows(db, "SELECT source, 0, 0 FROM eventsync_notify_channel").containsKey(SOURCE));
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN " + channel);
            }
            List<String> heard = new ArrayList<>();
            run(WRITERS.resolve("python"), PYTHON, "write_accounts.py",
                    "host=127.0.0.1 port=5432 dbname=test user=postgres", schema, SOURCE, "1", "1", generated.toString());
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications(listener, heard).size() == 1);
            run(WRITERS.resolve("node"), "node", "write_accounts.js", "postgresql://postgres@127.0.0.1:5432/test",
                    schema, SOURCE, "1", "1", REPO.resolve("eventsync-core/src/main/proto").toString(),
                    REPO.resolve("eventsync-jdbc/src/test/proto").toString());
            await().atMost(Duration.ofSeconds(30)).until(() -> notifications(listener, heard).size() == 2);
            assertThat(heard).as("each writer's commit notified the channel Java derives").containsExactly(channel, channel);
        }
    }

    private static List<String> notifications(Connection listener, List<String> heard) throws Exception {
        PGNotification[] notes = listener.unwrap(PGConnection.class).getNotifications(100);
        for (PGNotification n : notes == null ? new PGNotification[0] : notes) {
            heard.add(n.getName());
        }
        return heard;
    }
}
