package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.PartitionFreshness;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The freshness rows per partition on real H2, PostgreSQL and MariaDB, and an install from before them. */
@Tag("database")
class FreshnessTableTest {
    private static final Instant T = Instant.parse("2026-12-03T12:00:00Z");

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void aStaleInstanceShowsBesideAFreshOneOfTheSameSubscription(TestDatabase.Kind kind) {
        try (TestDatabase db = TestDatabase.create(kind)) {
            FreshnessTable table = FreshnessTable.in(db.dataSource(), db.names());
            // Two instances of one copy, each owning its partitions, record one after the other.
            table.record(freshness(new PartitionFreshness("orders-0", T.minusSeconds(90), T.minusSeconds(89), 4L)));
            table.record(freshness(new PartitionFreshness("orders-1", T.minusSeconds(1), T, 0L),
                    new PartitionFreshness("orders-2", T.minusSeconds(30), null, null)));

            FreshnessTable.Row row = table.read("orders-copy").get(0);
            assertThat(row.source()).isEqualTo("orders");
            assertThat(row.sourceTime()).isEqualTo(T.minusSeconds(90));
            assertThat(row.appliedAt()).isEqualTo(T);
            assertThat(row.lag()).isEqualTo(4L);
            assertThat(row.partitions()).extracting(FreshnessTable.PartitionRow::partition)
                    .containsExactly("orders-0", "orders-1", "orders-2");
            FreshnessTable.PartitionRow waiting = row.partitions().get(2);
            assertThat(waiting.appliedAt()).isNull(); // no heartbeat applied yet: source_time is when first seen
            assertThat(waiting.lag()).isNull();
            assertThat(waiting.recordedAt()).isCloseTo(Instant.now(), org.assertj.core.api.Assertions.within(1, ChronoUnit.HOURS));

            // The instance that owned orders-0 recovers (or another took it over): its row is overwritten.
            table.record(freshness(new PartitionFreshness("orders-0", T.minusSeconds(2), T, 0L)));
            assertThat(table.read("orders-copy").get(0).sourceTime()).isEqualTo(T.minusSeconds(30));
            assertThat(table.read("other-copy")).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void anInstallFromBeforePartitionRowsKeepsItsRowsAndGetsTheNewTableOnInstall(TestDatabase.Kind kind) {
        try (TestDatabase db = TestDatabase.create(kind)) {
            String old = table(db, "freshness");
            db.execute("DROP TABLE " + table(db, "freshness_partition")); // as installed by V1 alone
            db.execute("INSERT INTO " + old + " (subscription, source, source_time, applied_at) VALUES"
                    + " ('orders-copy', 'orders', " + timestamp(db, T.minusSeconds(5)) + ", " + timestamp(db, T) + ")");
            FreshnessTable table = FreshnessTable.in(db.dataSource(), db.names());

            assertThat(table.read("orders-copy")).singleElement().satisfies(r -> {
                assertThat(r.sourceTime()).isEqualTo(T.minusSeconds(5));
                assertThat(r.partitions()).isEmpty();
            });

            EventsyncSchema.install(db.dataSource(), db.names()); // what every start does
            table.record(freshness(new PartitionFreshness("orders-0", T.minusSeconds(1), T, null)));
            assertThat(table.read("orders-copy")).singleElement().satisfies(r -> {
                assertThat(r.sourceTime()).isEqualTo(T.minusSeconds(1));
                assertThat(r.partitions()).hasSize(1);
            });
        }
    }

    private static CopyFreshness freshness(PartitionFreshness... partitions) {
        Instant oldest = List.of(partitions).stream().map(PartitionFreshness::sourceTime).min(Instant::compareTo).orElseThrow();
        return new CopyFreshness("orders-copy", "orders", Duration.between(oldest, T), oldest, T, partitions.length,
                List.of(partitions));
    }

    private static String table(TestDatabase db, String suffix) {
        return db.kind() == TestDatabase.Kind.MARIADB
                ? "`" + db.names().schema() + "`.`" + db.names().prefix() + suffix + "`"
                : "\"" + db.names().schema() + "\".\"" + db.names().prefix() + suffix + "\"";
    }

    private static String timestamp(TestDatabase db, Instant t) {
        String text = t.toString().replace("T", " ").replace("Z", "");
        return db.kind() == TestDatabase.Kind.MARIADB ? "'" + text + "'" : "TIMESTAMP WITH TIME ZONE '" + text + "+00:00'";
    }
}
