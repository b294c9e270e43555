package io.eventsync.example;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.Position;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickStartTest {

    @TempDir
    Path dir;

    @Test
    void theReadmeQuickStartCopiesPaymentsAndCancellationsToBilling() throws Exception {
        try (QuickStart app = new QuickStart(dir)) {
            Position paid = app.pay("o-1", 1200, 1);
            assertThat(app.awaitBilling(paid, Duration.ofSeconds(30))).isTrue();
            Position cancelled = app.cancel("o-1", "changed mind", 2);
            assertThat(app.awaitBilling(cancelled, Duration.ofSeconds(30))).isTrue();

            try (Connection c = app.billingDb().getConnection();
                 ResultSet copy = c.createStatement().executeQuery(
                         // CopyTable quotes its identifiers, so on H2 they stay lower case.
                         "select \"amount_cents\", \"currency\", \"version\" from \"billing_orders\" where \"order_id\" = 'o-1'")) {
                assertThat(copy.next()).isTrue();
                assertThat(copy.getLong(1)).isEqualTo(1200);
                assertThat(copy.getString(2)).isEqualTo("EUR");
                assertThat(copy.getLong(3)).isEqualTo(1);
            }
            try (Connection c = app.billingDb().getConnection();
                 ResultSet cancellation = c.createStatement().executeQuery(
                         "select reason from cancelled_invoices where order_id = 'o-1'")) {
                assertThat(cancellation.next()).isTrue();
                assertThat(cancellation.getString(1)).isEqualTo("changed mind");
            }
        }
    }
}
