package io.eventsync.example.spring.billing;

import io.eventsync.example.spring.events.OrderCancelled;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.Outcome;
import io.eventsync.spring.EventsyncHandler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import org.springframework.stereotype.Component;

/**
 * The billing side's code. {@code OrderPlaced} needs none: the starter applies it to the copy table
 * {@code billing_orders} declared in {@code application.properties}. A cancellation is billing logic: it
 * issues a credit note for the amount billing holds in that copy.
 */
@Component
public class Billing {

    /**
     * Runs in the subscription's apply transaction (inbox row, dead letters, offset): the credit note is written
     * exactly once however often the event is delivered, and after the order's OrderPlaced (per-key order).
     */
    @EventsyncHandler(subscription = "billing")
    public Outcome cancelled(OrderCancelled cancelled, EventContext ctx) throws SQLException {
        Connection c = ctx.resource(Connection.class).orElseThrow();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO billing_credit_notes (order_id, amount_cents, reason)"
                + " SELECT order_id, amount_cents, ? FROM billing_orders WHERE order_id = ?")) {
            ps.setString(1, cancelled.getReason());
            ps.setString(2, cancelled.getOrderId());
            if (ps.executeUpdate() == 0) {
                return Outcome.reject("cancelled order " + cancelled.getOrderId() + " is not in billing_orders");
            }
        }
        return Outcome.applied();
    }
}
