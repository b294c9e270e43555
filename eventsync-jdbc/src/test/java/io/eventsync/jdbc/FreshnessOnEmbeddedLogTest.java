package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Relay heartbeats through the embedded log to a consumer: freshness stays current while the outbox is
 * idle, rises while the relay is stopped, falls back when it runs again, and is stored in the copy's
 * database for other processes. Real H2, PostgreSQL and MariaDB.
 */
@Tag("database")
class FreshnessOnEmbeddedLogTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(60);

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void freshnessFollowsTheRelayWhileIdleStoppedAndResumed(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            String source = Accounts.SOURCE;
            String group = "fresh-copy";
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names())
                    .pollInterval(Duration.ofMillis(1), Duration.ofMillis(50)).build();
            FreshnessTable table = FreshnessTable.in(db.dataSource(), db.names());
            try (JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db.dataSource()).schema(db.names()).build())
                         .build();
                 Dispatcher dispatcher = Dispatcher.builder(group)
                         .handlers(HandlerRegistry.builder().on(AccountChanged.class, (a, ctx) -> Outcome.applied(),
                                 HandlerOptions.defaults()).build())
                         .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                         .applyScope(scope).meterRegistry(meters).freshnessListener(table::record).build();
                 Subscription ignored = log.subscribe(SubscriptionSpec.fanout(source, group), dispatcher)) {
                Relay relay = relay(db, log).start();
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of(source, db.names()).append(c, Accounts.event(Accounts.account("a-1", 10), 1, 0),
                            Accounts.event(Accounts.account("a-2", 20), 1, 0));
                    c.commit();
                }
                await().atMost(WAIT).until(() -> db.count("inbox") == 2);

                // Idle: heartbeats keep coming, each with a later source time.
                Instant first = await().atMost(WAIT).until(() -> sourceTime(dispatcher), t -> t != null);
                await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(first));
                CopyFreshness idle = dispatcher.freshness().get(source);
                System.out.printf("%s: freshness while idle %d ms (heartbeat interval %d ms)%n", kind,
                        idle.freshness().toMillis(), INTERVAL.toMillis());
                assertThat(idle.partitions()).isEqualTo(1);
                assertThat(meters.get("eventsync.copy.freshness").tag("subscription", group).tag("source", source)
                        .gauge().value()).isGreaterThanOrEqualTo(0.0);

                // Stopped: no heartbeat, so freshness grows past two intervals.
                relay.close();
                await().atMost(WAIT).until(() -> dispatcher.freshness().get(source).freshness()
                        .compareTo(INTERVAL.multipliedBy(2)) > 0);
                Instant stoppedAt = sourceTime(dispatcher);
                assertThat(dispatcher.health(INTERVAL.multipliedBy(2)).healthy()).isFalse();

                // Resumed: it falls back.
                // How stale the copy is as the relay starts again: the heartbeats it sends bring it back below.
                Duration stale = dispatcher.freshness().get(source).freshness();
                try (Relay again = relay(db, log).start()) {
                    await().atMost(WAIT).until(() -> sourceTime(dispatcher).isAfter(stoppedAt)
                            && dispatcher.freshness().get(source).freshness().compareTo(stale) < 0);
                }

                AtomicReference<FreshnessTable.Row> row = new AtomicReference<>();
                await().atMost(WAIT).until(() -> {
                    row.set(table.read(group).stream().filter(r -> r.source().equals(source)).findFirst().orElse(null));
                    return row.get() != null && row.get().sourceTime().isAfter(stoppedAt);
                });
                assertThat(row.get().subscription()).isEqualTo(group);
                assertThat(row.get().appliedAt()).isAfterOrEqualTo(row.get().sourceTime().minusSeconds(60));
                // Heartbeats take no inbox row and are not counted as applied events.
                assertThat(db.count("inbox")).isEqualTo(2);
                assertThat(meters.get("eventsync.dispatcher.applied").counters().stream()
                        .mapToDouble(c -> c.count()).sum()).isEqualTo(2.0);
            }
        }
    }

    private static Relay relay(TestDatabase db, EmbeddedLog log) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source(Accounts.SOURCE)
                .publisher(log.publisher(Accounts.SOURCE)).leaseDuration(Duration.ofSeconds(2))
                .heartbeatInterval(INTERVAL).meterRegistry(new SimpleMeterRegistry()).build();
    }

    private static Instant sourceTime(Dispatcher dispatcher) {
        CopyFreshness f = dispatcher.freshness().get(Accounts.SOURCE);
        return f == null ? null : f.sourceTime();
    }
}
