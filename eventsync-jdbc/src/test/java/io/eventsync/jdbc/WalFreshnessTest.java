package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.jdbc.WalOutbox.Capture;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The WAL relay's freshness heartbeats on a real PostgreSQL cluster with wal_level=logical (see
 * {@link LogicalDatabase}): a heartbeat goes out only after the events committed before its time, they
 * keep coming while idle, and a consumer's freshness rises while the relay is stopped and falls back
 * when it runs again.
 */
@Tag("database")
class WalFreshnessTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static WalRelay.Builder relay(LogicalDatabase db, String slot, Publisher publisher) {
        return WalRelay.builder().dataSource(db.dataSource()).names(db.names()).source(Accounts.SOURCE).slot(slot)
                .publication(slot).publisher(publisher).leaseDuration(Duration.ofSeconds(2))
                .freshnessHeartbeatInterval(INTERVAL).meterRegistry(new SimpleMeterRegistry());
    }

    private static void commit(LogicalDatabase db, Capture capture, Envelope... events) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            WalOutbox.of(Accounts.SOURCE, db.names()).capture(capture).append(c, events);
            c.commit();
        }
    }

    private static Instant dbNow(LogicalDatabase db) {
        long micros = db.queryLong("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint");
        return Instant.EPOCH.plusNanos(micros * 1000);
    }

    @Test
    void aHeartbeatFollowsTheEventsCommittedBeforeItsTimeAndKeepsComingWhileIdle() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("fresh", true);
            RecordingPublisher publisher = new RecordingPublisher();
            commit(db, Capture.MESSAGE, Accounts.event(Accounts.account("a-1", 10), 1, 0));
            commit(db, Capture.ROW, Accounts.event(Accounts.account("a-2", 20), 1, 0));
            Instant committed = dbNow(db);
            try (WalRelay r = relay(db, slot, publisher).build().start()) {
                await().atMost(WAIT).until(() -> publisher.heartbeats.stream()
                        .anyMatch(h -> time(h).isAfter(committed)));
                int first = indexOfFirstAfter(publisher, committed);
                // Both events committed before that heartbeat's time were confirmed before it was sent.
                assertThat(publisher.confirmedBeforeHeartbeat.get(first)).isEqualTo(2);
                int seen = publisher.heartbeats.size();
                Instant last = time(publisher.heartbeats.get(seen - 1));
                await().atMost(WAIT).until(() -> publisher.heartbeats.size() >= seen + 2);
                assertThat(time(publisher.heartbeats.get(publisher.heartbeats.size() - 1))).isAfter(last);
                assertThat(Heartbeats.read(publisher.heartbeats.get(0)).orElseThrow().getSource())
                        .isEqualTo(Accounts.SOURCE);
                assertThat(publisher.confirmed).hasSize(2); // heartbeats are not events
                assertThat(r.lastFailure()).isEmpty();
            }
        }
    }

    @Test
    void aZeroIntervalSendsNoHeartbeat() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("nofresh", true);
            RecordingPublisher publisher = new RecordingPublisher();
            try (WalRelay r = relay(db, slot, publisher).freshnessHeartbeatInterval(Duration.ZERO).build().start()) {
                commit(db, Capture.MESSAGE, Accounts.event(Accounts.account("a-1", 10), 1, 0));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 1);
                commit(db, Capture.MESSAGE, Accounts.event(Accounts.account("a-1", 11), 2, 0));
                await().atMost(WAIT).until(() -> publisher.confirmed.size() == 2);
                assertThat(publisher.heartbeats).isEmpty();
            }
        }
    }

    @Test
    void copyFreshnessRisesWhileTheWalRelayIsStoppedAndFallsBackWhenItResumes() throws Exception {
        try (LogicalDatabase db = LogicalDatabase.create()) {
            String slot = db.slot("copy", true);
            String group = "wal-fresh-copy";
            String source = Accounts.SOURCE;
            EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names())
                    .pollInterval(Duration.ofMillis(1), Duration.ofMillis(50)).build();
            FreshnessTable table = FreshnessTable.in(db.dataSource(), db.names());
            try (JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).schema(db.names()).build())
                         .build();
                 Dispatcher dispatcher = Dispatcher.builder(group)
                         .handlers(HandlerRegistry.builder().on(AccountChanged.class, (a, ctx) -> Outcome.applied(),
                                 HandlerOptions.defaults()).build())
                         .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                         .applyScope(scope).meterRegistry(new SimpleMeterRegistry()).freshnessListener(table::record)
                         .build();
                 Subscription ignored = log.subscribe(SubscriptionSpec.fanout(source, group), dispatcher)) {
                WalRelay relay = relay(db, slot, log.publisher(source)).build().start();
                commit(db, Capture.MESSAGE, Accounts.event(Accounts.account("a-1", 10), 1, 0));
                await().atMost(WAIT).until(() -> db.queryLong("SELECT COUNT(*) FROM eventsync_inbox") == 1);

                Instant first = await().atMost(WAIT).until(() -> sourceTime(dispatcher), t -> t != null);
                await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(first));
                CopyFreshness idle = dispatcher.freshness().get(source);
                System.out.printf("WAL relay: freshness while idle %d ms (heartbeat interval %d ms)%n",
                        idle.freshness().toMillis(), INTERVAL.toMillis());

                relay.close();
                await().atMost(WAIT).until(() -> dispatcher.freshness().get(source).freshness()
                        .compareTo(INTERVAL.multipliedBy(2)) > 0);
                Instant stoppedAt = sourceTime(dispatcher);
                assertThat(dispatcher.health(INTERVAL.multipliedBy(2)).healthy()).isFalse();

                // How stale the copy is as the relay starts again: the heartbeats it sends bring it back below.
                Duration stale = dispatcher.freshness().get(source).freshness();
                try (WalRelay again = relay(db, slot, log.publisher(source)).build().start()) {
                    await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(stoppedAt)
                            && dispatcher.freshness().get(source).freshness().compareTo(stale) < 0);
                }
                AtomicReference<FreshnessTable.Row> row = new AtomicReference<>();
                await().atMost(WAIT).until(() -> {
                    row.set(table.read(group).stream().filter(r -> r.source().equals(source)).findFirst().orElse(null));
                    return row.get() != null && row.get().sourceTime().isAfter(stoppedAt);
                });
                assertThat(db.queryLong("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(1); // heartbeats take no row
            }
        }
    }

    private static Instant time(Envelope heartbeat) {
        Heartbeat h = Heartbeats.read(heartbeat).orElseThrow();
        return Instant.ofEpochSecond(h.getTime().getSeconds(), h.getTime().getNanos());
    }

    private static int indexOfFirstAfter(RecordingPublisher publisher, Instant t) {
        for (int i = 0; i < publisher.heartbeats.size(); i++) {
            if (time(publisher.heartbeats.get(i)).isAfter(t)) {
                return i;
            }
        }
        throw new AssertionError("no heartbeat after " + t);
    }

    private static Instant sourceTime(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get(Accounts.SOURCE);
        return f == null ? null : f.sourceTime();
    }
}
