package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestDatabase.Kind;
import java.sql.Connection;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Memory stays flat: a table far larger than the rows a diff may read is compared by checksums in the
 * database, and only the rows of the few ranges that differ reach the JVM (counted by the diff).
 */
@Tag("database")
class FlatMemoryDatabaseTest {
    private static final int ROWS = 100_000;
    private static final int LEAF = 50;

    @Test
    void aTableBiggerThanTheFetchBudgetIsNeverReadWhole() throws Exception {
        try (TestDatabase source = TestDatabase.create(Kind.POSTGRES); TestDatabase copy = TestDatabase.create(Kind.POSTGRES)) {
            for (TestDatabase db : new TestDatabase[] {source, copy}) {
                db.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, label TEXT NOT NULL, price NUMERIC(12, 2))");
                db.execute("INSERT INTO items SELECT i, 'item ' || i, i / 100.0 FROM generate_series(1, " + ROWS + ") i");
            }
            copy.execute("UPDATE items SET label = 'changed' WHERE id = 31337");
            copy.execute("DELETE FROM items WHERE id = 77777");
            copy.execute("INSERT INTO items VALUES (" + (ROWS + 10) + ", 'extra', 1)");
            TableDiff diff = TableDiff.builder().chunkSize(5_000).leafRows(LEAF).build();
            TableProjection items = TableProjection.of("items", "id", "label", "price");

            DiffReport report;
            try (Connection s = source.dataSource().getConnection(); Connection c = copy.dataSource().getConnection()) {
                report = diff.compare("items", s, items, c, items);
            }

            assertThat(report.differences()).extracting(KeyDifference::key).containsExactly("100010", "31337", "77777");
            assertThat(report.sourceRows()).isEqualTo(ROWS);
            // Per difference: one leaf of at most LEAF rows on each side, its re-check, and the cut keys of the
            // ranges above it; a budget of 1% of the table, far below reading either side whole.
            long budget = ROWS / 100;
            assertThat(report.work().rowsFetched()).as("rows read into the JVM").isPositive().isLessThan(budget);
        }
    }
}
