package io.eventsync.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter in a real Boot application on PostgreSQL (own schema): a {@code @Transactional} service
 * writes orders and their events through {@link TransactionalOutbox}; the relay and the "billing"
 * subscription with its {@link EventsyncHandler} methods keep a billing table in step; a rolled-back
 * transaction leaves no event; an append outside a transaction is refused; health reports the
 * subscription.
 */
@SpringBootTest(classes = ShopApplication.class)
class EventsyncStarterTest {
    private static final String URL = "jdbc:postgresql://127.0.0.1:5432/test";
    private static final String SCHEMA = "starter_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("CREATE SCHEMA " + SCHEMA);
            c.createStatement().execute("CREATE TABLE " + SCHEMA + ".orders (order_id VARCHAR(64) PRIMARY KEY,"
                    + " amount_cents BIGINT NOT NULL, status VARCHAR(16) NOT NULL)");
            c.createStatement().execute("CREATE TABLE " + SCHEMA + ".billing (order_id VARCHAR(64) PRIMARY KEY,"
                    + " amount_cents BIGINT NOT NULL, status VARCHAR(16) NOT NULL)");
        }
        registry.add("spring.datasource.url", () -> URL + "?currentSchema=" + SCHEMA);
        registry.add("spring.datasource.username", () -> "postgres");
        registry.add("eventsync.source", () -> "shop");
        registry.add("eventsync.subscriptions.billing.topic", () -> "shop");
        registry.add("eventsync.subscriptions.billing.lanes", () -> "4");
    }

    @AfterAll
    static void drop() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "postgres", "")) {
            c.createStatement().execute("DROP SCHEMA " + SCHEMA + " CASCADE");
        }
    }

    @Autowired
    ShopApplication.Orders orders;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    EventsyncHealthIndicator health;
    @Autowired
    EventsyncConsumers consumers;

    private String billingStatus(String orderId) {
        return jdbc.query("SELECT status FROM billing WHERE order_id = ?", rs -> rs.next() ? rs.getString(1) : null,
                orderId);
    }

    @Test
    void ordersWrittenInSpringTransactionsReachTheBillingCopyThroughTheHandlers() {
        for (int i = 0; i < 20; i++) {
            orders.place("o-" + i, 100 + i);
        }
        orders.cancel("o-3");
        await().atMost(Duration.ofSeconds(60)).until(() ->
                jdbc.queryForObject("SELECT COUNT(*) FROM billing WHERE order_id LIKE 'o-%'", Long.class) == 20 && "VOID".equals(billingStatus("o-3")));
        assertThat(jdbc.queryForObject("SELECT amount_cents FROM billing WHERE order_id = 'o-7'", Long.class))
                .isEqualTo(107);
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_dead_letters", Long.class)).isZero();

        Health h = health.health(true);
        assertThat(h.getStatus()).isEqualTo(Status.UP);
        assertThat(h.getDetails()).containsKey("billing");
        assertThat(consumers.running()).containsOnlyKeys("billing");

        // The relay's heartbeats: freshness of the billing copy for source shop in health and in its table.
        await().atMost(Duration.ofSeconds(60)).until(() -> freshnessSeconds(health.health(true)).containsKey("shop"));
        assertThat((Double) freshnessSeconds(health.health(true)).get("shop")).isGreaterThanOrEqualTo(0.0);
        await().atMost(Duration.ofSeconds(60)).until(() -> jdbc.queryForObject("SELECT COUNT(*) FROM"
                + " eventsync_freshness_partition WHERE subscription = 'billing' AND source = 'shop'", Long.class) >= 1);
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> freshnessSeconds(Health h) {
        return (java.util.Map<String, Object>) ((java.util.Map<String, Object>) h.getDetails().get("billing"))
                .get("freshnessSeconds");
    }

    @Test
    void aRolledBackTransactionLeavesNeitherTheChangeNorItsEvent() {
        assertThatThrownBy(() -> orders.placeThenFail("lost-1")).hasMessageContaining("payment provider refused");
        orders.place("after-1", 5);
        await().atMost(Duration.ofSeconds(60)).until(() -> billingStatus("after-1") != null);
        assertThat(billingStatus("lost-1")).isNull();
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM orders WHERE order_id = 'lost-1'", Long.class)).isZero();
    }

    @Test
    void anAppendOutsideATransactionIsRefused() {
        assertThatThrownBy(() -> orders.appendWithoutTransaction("x-1"))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("outside a transaction");
        assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM eventsync_outbox WHERE subject = 'x-1'", Long.class))
                .isZero();
    }
}
