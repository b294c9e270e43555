package io.eventsync.jdbc;

import io.eventsync.transport.LagCheck;
import io.eventsync.transport.TestEvents;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The embedded log tells a consumer's lag (topic head minus the group's first unacknowledged offset):
 * with the handler blocked it reaches the events published, and falls to 0 once they are applied. Real
 * H2, PostgreSQL and MariaDB.
 */
@Tag("database")
class LagOnEmbeddedLogTest {
    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void lagCountsTheEventsNotYetAppliedAndFallsToZero(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind);
             EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names())
                     .pollInterval(Duration.ofMillis(1), Duration.ofMillis(50)).build()) {
            LagCheck.lagCountsEventsNotYetApplied(log, TestEvents.unique("lag"), TestEvents.unique("lag-copy"), 20,
                    Duration.ofSeconds(60), subscription -> {});
        }
    }
}
