package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BadInputTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private static HikariDataSource lazyPool(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setMaximumPoolSize(4);
        config.setConnectionTimeout(1_000);
        config.setInitializationFailTimeout(-1); // start even when the database cannot be reached
        return new HikariDataSource(config);
    }

    private static Relay.Builder relay(javax.sql.DataSource ds, SchemaNames names, RecordingPublisher publisher) {
        return Relay.builder().dataSource(ds).names(names).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(2)).meterRegistry(new SimpleMeterRegistry());
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void relayOnAMissingTableNamesItAndRecoversOnceTheSchemaIsInstalled(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            SchemaNames later = db.names().withPrefix("later_");
            RecordingPublisher publisher = new RecordingPublisher();
            try (Relay r = relay(db.dataSource(), later, publisher).build().start()) {
                await().atMost(DEADLINE).until(() -> r.lastFailure().isPresent());
                assertThat(r.lastFailure().get()).isInstanceOf(ConfigException.class)
                        .hasMessageContaining("later_")
                        .hasMessageContaining("does not exist")
                        .hasMessageContaining("EventsyncSchema.install");

                EventsyncSchema.install(db.dataSource(), later);
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of("shop", later).append(c, TestEvents.event("shop", "o1", 1));
                    c.commit();
                }
                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 1);
            }
        }
    }

    @Test
    void wrongPasswordIsReportedWithTheUrlButNotThePassword() {
        RecordingPublisher publisher = new RecordingPublisher();
        try (HikariDataSource ds = lazyPool("jdbc:mariadb://127.0.0.1:3306/test?user=root&password=wrong-secret");
             Relay r = relay(ds, SchemaNames.of("test"), publisher).build().start()) {
            await().atMost(DEADLINE).until(() -> r.lastFailure().isPresent());
            assertThat(r.lastFailure().get().getMessage())
                    .contains("cannot connect to jdbc:mariadb://127.0.0.1:3306/test")
                    .contains("Access denied")
                    .doesNotContain("wrong-secret");
        }
    }

    /**
     * The database is down when the relay starts (nothing listens on the port); it reports that,
     * keeps retrying, and relays what was committed once the server can be reached.
     */
    @Test
    void serverThatIsDownIsReportedAndTheRelayCatchesUpWhenItComesBack() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES)) {
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                Outbox.of("shop", db.names()).append(c, TestEvents.event("shop", "o1", 1), TestEvents.event("shop", "o1", 2));
                c.commit();
            }
            int port;
            try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            RecordingPublisher publisher = new RecordingPublisher();
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/test?user=postgres&currentSchema=" + db.names().schema();
            try (HikariDataSource ds = lazyPool(url);
                 Relay r = relay(ds, db.names(), publisher).build().start()) {
                await().atMost(DEADLINE).until(() -> r.lastFailure().isPresent());
                assertThat(r.lastFailure().get().getMessage())
                        .contains("cannot connect to jdbc:postgresql://127.0.0.1:" + port)
                        .containsIgnoringCase("refused");
                try (Forwarder server = new Forwarder(port, 5432)) {
                    await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 2);
                    await().atMost(DEADLINE).until(() -> db.count("outbox") == 0);
                }
            }
        }
    }

    /** A TCP forwarder standing in for a database server that comes up late. */
    static final class Forwarder implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        Forwarder(int port, int targetPort) throws IOException {
            server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
            Thread accept = new Thread(() -> {
                try {
                    while (true) {
                        Socket in = server.accept();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                        sockets.add(in);
                        sockets.add(out);
                        pump(in, out);
                        pump(out, in);
                    }
                } catch (IOException closed) {
                    // server closed: the test is over
                }
            }, "test-forwarder-accept");
            accept.setDaemon(true);
            accept.start();
        }

        private static void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // one side closed
                }
            }, "test-forwarder-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
