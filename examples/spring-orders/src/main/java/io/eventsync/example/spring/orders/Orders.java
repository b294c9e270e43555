package io.eventsync.example.spring.orders;

import io.eventsync.example.spring.events.OrderCancelled;
import io.eventsync.example.spring.events.OrderPlaced;
import io.eventsync.spring.TransactionalOutbox;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The orders service: each change to an order and the event that describes it commit together, or neither
 * does. The event's sequence is the order row's version, so a copy can tell a newer change from an older one.
 */
@Service
public class Orders {
    private final JdbcTemplate jdbc;
    private final TransactionalOutbox outbox;

    public Orders(JdbcTemplate jdbc, TransactionalOutbox outbox) {
        this.jdbc = jdbc;
        this.outbox = outbox;
    }

    @Transactional
    public void place(String orderId, String customerId, long amountCents, String currency) {
        jdbc.update("INSERT INTO orders (order_id, customer_id, amount_cents, currency, status, version)"
                + " VALUES (?, ?, ?, ?, 'PLACED', 1)", orderId, customerId, amountCents, currency);
        outbox.append(orderId, 1, OrderPlaced.newBuilder().setOrderId(orderId).setCustomerId(customerId)
                .setAmountCents(amountCents).setCurrency(currency).build());
    }

    /** Cancels a placed order; an order that is unknown or already cancelled is refused and no event is written. */
    @Transactional
    public void cancel(String orderId, String reason) {
        List<Long> version = jdbc.queryForList("UPDATE orders SET status = 'CANCELLED', version = version + 1"
                + " WHERE order_id = ? AND status = 'PLACED' RETURNING version", Long.class, orderId);
        if (version.isEmpty()) {
            throw new IllegalStateException("order " + orderId + " is not a placed order, so it cannot be cancelled");
        }
        outbox.append(orderId, version.get(0), OrderCancelled.newBuilder().setOrderId(orderId).setReason(reason).build());
    }
}
