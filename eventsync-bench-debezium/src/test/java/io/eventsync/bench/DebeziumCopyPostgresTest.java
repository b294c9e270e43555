package io.eventsync.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The hand-written Debezium consumer's copy transaction on real PostgreSQL (127.0.0.1:5432, database
 * {@code test}, a schema of its own): the benchmark only compares fairly if that consumer is correct, so its
 * inbox and version guard are checked here, without Debezium and without any timing.
 */
class DebeziumCopyPostgresTest {
    private EndToEndRig.Pools pools;
    private DebeziumCopy consumer;

    @BeforeEach
    void createSchemas() throws Exception {
        pools = EndToEndRig.pgPools();
        DebeziumCopy.createCopyTables(pools.copy());
        consumer = new DebeziumCopy(null, pools.copy());
    }

    @AfterEach
    void dropSchemas() {
        pools.source().close();
        pools.copy().close();
        pools.cleanup().run();
    }

    @Test
    void aRedeliveredEventIsSkippedAndAnOlderVersionNeverOverwritesANewerOne() throws Exception {
        assertThat(consumer.apply(List.of(change("e1", "acc-1", 1, 10), change("e2", "acc-1", 2, 20),
                change("e3", "acc-2", 5, 50)))).containsExactlyInAnyOrder("e1", "e2", "e3");

        // e2 again (redelivered after a crash before the offset commit), e4 an older version of acc-2 arriving late.
        assertThat(consumer.apply(List.of(change("e2", "acc-1", 2, 20), change("e4", "acc-2", 4, 40),
                change("e5", "acc-1", 3, 30)))).containsExactlyInAnyOrder("e4", "e5");

        assertThat(copy()).containsExactly(Map.entry("acc-1", "3:30"), Map.entry("acc-2", "5:50"));
        assertThat(inboxCount()).isEqualTo(5);
    }

    @Test
    void theSameEventTwiceInOneBatchIsAppliedOnce() throws Exception {
        assertThat(consumer.apply(List.of(change("e1", "acc-1", 1, 10), change("e1", "acc-1", 1, 10))))
                .containsExactly("e1");
        assertThat(copy()).containsExactly(Map.entry("acc-1", "1:10"));
    }

    private static DebeziumCopy.Change change(String eventId, String id, long version, long balance) {
        return new DebeziumCopy.Change(eventId, id, version, balance, "owner-" + balance);
    }

    private Map<String, String> copy() throws Exception {
        Map<String, String> rows = new LinkedHashMap<>();
        try (Connection c = pools.copy().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, version, balance FROM accounts_copy ORDER BY id")) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getLong(2) + ":" + rs.getLong(3));
            }
        }
        return rows;
    }

    private long inboxCount() throws Exception {
        try (Connection c = pools.copy().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM dbz_inbox")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
