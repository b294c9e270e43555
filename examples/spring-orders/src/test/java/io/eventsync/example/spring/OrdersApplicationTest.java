package io.eventsync.example.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.example.spring.events.OrderCancelled;
import io.eventsync.example.spring.orders.Orders;
import io.eventsync.spring.TransactionalOutbox;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The example application as it ships (its application.properties), on the local PostgreSQL in a schema of
 * its own: orders placed through the service reach the billing copy, a cancellation gets its credit note
 * from that copy, and an append outside a transaction is refused.
 */
@SpringBootTest
class OrdersApplicationTest {
    private static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String SCHEMA = "spring_orders_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    /** Generous: only a broken pipeline takes this long; a working one applies in milliseconds. */
    private static final Duration APPLIED = Duration.ofSeconds(60);

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("CREATE SCHEMA " + SCHEMA);
        }
        registry.add("spring.datasource.url", () -> URL + "?currentSchema=" + SCHEMA);
    }

    @AfterAll
    static void dropSchema() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    @Autowired
    Orders orders;
    @Autowired
    TransactionalOutbox outbox;
    @Autowired
    JdbcTemplate jdbc;

    private Map<String, Object> billingCopy(String orderId) {
        return jdbc.queryForList("SELECT * FROM billing_orders WHERE order_id = ?", orderId).stream().findFirst()
                .orElse(null);
    }

    /**
     * Events about {@code subject} in the outbox or, once relayed, in the embedded log. The outbox is read
     * first: the relay deletes a row only after publishing it, so an event missed there is in the log.
     */
    private long eventsWrittenAbout(String subject) {
        long inOutbox = jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_outbox WHERE subject = ?", Long.class,
                subject);
        return inOutbox + jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_log WHERE event_key = ?", Long.class,
                subject);
    }

    @Test
    void anOrderPlacedThroughTheServiceShowsUpInTheBillingCopy() {
        orders.place("o-1", "c-7", 4200, "EUR");

        await().atMost(APPLIED).until(() -> billingCopy("o-1") != null);
        assertThat(billingCopy("o-1")).containsOnly(Map.entry("order_id", "o-1"), Map.entry("customer_id", "c-7"),
                Map.entry("amount_cents", 4200L), Map.entry("currency", "EUR"), Map.entry("version", 1L));
        assertThat(eventsWrittenAbout("o-1")).as("the check the refusal tests rely on finds a written event").isPositive();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_dead_letters", Long.class)).isZero();
    }

    @Test
    void aCancelledOrderGetsACreditNoteForTheAmountInTheBillingCopy() {
        orders.place("o-2", "c-8", 990, "EUR");
        orders.cancel("o-2", "out of stock");

        await().atMost(APPLIED).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM billing_credit_notes WHERE order_id = 'o-2'", Long.class) == 1);
        assertThat(jdbc.queryForMap("SELECT amount_cents, reason FROM billing_credit_notes WHERE order_id = 'o-2'"))
                .containsOnly(Map.entry("amount_cents", 990L), Map.entry("reason", "out of stock"));
        assertThat(jdbc.queryForObject("SELECT version FROM orders WHERE order_id = 'o-2'", Long.class)).isEqualTo(2);
    }

    @Test
    void aCancellationThatIsRefusedWritesNoEvent() {
        assertThatThrownBy(() -> orders.cancel("never-placed", "typo"))
                .hasMessageContaining("order never-placed is not a placed order");
        assertThat(eventsWrittenAbout("never-placed")).isZero();
    }

    /** The error README's Spring Boot section quotes. */
    @Test
    void aMistypedFieldInTheCopyTablePropertiesStopsTheApplicationNamingTheProperty() {
        // As with any Spring Boot list, the property source that sets copy-tables replaces the whole list.
        String table = "--eventsync.subscriptions.billing.copy-tables[0].";
        assertThatThrownBy(() -> new SpringApplicationBuilder(OrdersApplication.class).run(
                "--spring.datasource.url=" + URL + "?currentSchema=" + SCHEMA,
                table + "type=io.eventsync.example.spring.events.OrderPlaced", table + "table=billing_orders",
                table + "key.column=order_id", table + "key.field=order", table + "columns=customer_id").close())
                .hasStackTraceContaining("eventsync.subscriptions.billing.copy-tables[0].key.field: field path 'order'"
                        + " of column order_id: example.spring.v1.OrderPlaced has no field 'order'");
    }

    @Test
    void anAppendOutsideATransactionFailsWithAClearError() {
        assertThatThrownBy(() -> outbox.append("o-3", 1,
                OrderCancelled.newBuilder().setOrderId("o-3").setReason("no transaction").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outbox append outside a transaction")
                .hasMessageContaining("@Transactional");
        assertThat(eventsWrittenAbout("o-3")).isZero();
    }
}
