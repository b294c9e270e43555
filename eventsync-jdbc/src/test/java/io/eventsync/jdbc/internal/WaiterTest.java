package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestEvents;
import java.sql.Connection;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class WaiterTest {

    @Test
    void postgresWaiterWakesOnACommittedNotificationAndNotOnARolledBackOne() throws Exception {
        try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.POSTGRES);
             Connection c = db.dataSource().getConnection()) {
            Tables tables = Tables.resolve(c, db.names());
            String channel = WakeSignal.channel(tables.outboxName(), "shop");
            WakeSignal unused = WakeSignal.of(UUID.randomUUID().toString());
            try (Waiter waiter = Waiter.create(tables.dialect(), db.dataSource(), channel, unused)) {
                assertThat(waiter.await(50)).as("nothing notified yet").isFalse();
                Outbox outbox = Outbox.of("shop", db.names()).notifyInterval(java.time.Duration.ZERO);
                c.setAutoCommit(false);
                outbox.append(c, TestEvents.event("shop", "o1", 1));
                c.rollback();
                assertThat(waiter.await(200)).as("a rolled back append notifies nobody").isFalse();
                outbox.append(c, TestEvents.event("shop", "o1", 1));
                c.commit();
                assertThat(waiter.await(10_000)).as("a committed append wakes the relay").isTrue();
            }
        }
    }

    @Test
    void inProcessWaiterWakesOnTheSignalOfItsOutbox() throws Exception {
        WakeSignal signal = WakeSignal.of("test", UUID.randomUUID().toString());
        try (Waiter waiter = Waiter.create(Dialect.H2, null, "unused", signal)) {
            assertThat(waiter.await(20)).isFalse();
            signal.signal();
            assertThat(waiter.await(10_000)).isTrue();
        }
    }
}
