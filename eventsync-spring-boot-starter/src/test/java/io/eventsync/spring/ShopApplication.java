package io.eventsync.spring;

import io.eventsync.handler.EventContext;
import io.eventsync.handler.Outcome;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.test.v1.OrderPlaced;
import java.sql.Connection;
import java.sql.PreparedStatement;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A small Boot service as a user would write it: orders with their events, and a billing copy of them. */
@SpringBootApplication
class ShopApplication {

    @Service
    static class Orders {
        private final JdbcTemplate jdbc;
        private final TransactionalOutbox outbox;

        Orders(JdbcTemplate jdbc, TransactionalOutbox outbox) {
            this.jdbc = jdbc;
            this.outbox = outbox;
        }

        /** The business change and its event, in one transaction. */
        @Transactional
        public void place(String orderId, long cents) {
            jdbc.update("INSERT INTO orders (order_id, amount_cents, status) VALUES (?, ?, 'PLACED')", orderId, cents);
            outbox.append(orderId, 1, OrderPlaced.newBuilder().setOrderId(orderId).setCustomerEmail("a@example.com")
                    .setAmountCents(cents).setCurrency("EUR").addItems(LineItem.newBuilder().setSku("s").setQuantity(1))
                    .build());
        }

        /** Fails after writing its event: neither the change nor the event may survive. */
        @Transactional
        public void placeThenFail(String orderId) {
            place(orderId, 100);
            throw new IllegalStateException("payment provider refused " + orderId);
        }

        @Transactional
        public void cancel(String orderId) {
            jdbc.update("UPDATE orders SET status = 'CANCELLED' WHERE order_id = ?", orderId);
            outbox.append(orderId, 2, OrderCancelled.newBuilder().setOrderId(orderId).setReason("test").build());
        }

        /** No transaction: appending must be refused. */
        public void appendWithoutTransaction(String orderId) {
            outbox.append(orderId, 1, OrderCancelled.newBuilder().setOrderId(orderId).build());
        }
    }

    /** The billing copy, fed by the "billing" subscription, inside its apply transaction. */
    @Component
    static class Billing {
        @EventsyncHandler(subscription = "billing")
        public Outcome placed(OrderPlaced placed, EventContext ctx) throws Exception {
            Connection c = ctx.resource(Connection.class).orElseThrow();
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO billing (order_id, amount_cents, status) VALUES (?, ?, 'OPEN')")) {
                ps.setString(1, placed.getOrderId());
                ps.setLong(2, placed.getAmountCents());
                ps.executeUpdate();
            }
            return Outcome.applied();
        }

        @EventsyncHandler(subscription = "billing")
        public void cancelled(OrderCancelled cancelled, EventContext ctx) throws Exception {
            Connection c = ctx.resource(Connection.class).orElseThrow();
            try (PreparedStatement ps = c.prepareStatement("UPDATE billing SET status = 'VOID' WHERE order_id = ?")) {
                ps.setString(1, cancelled.getOrderId());
                ps.executeUpdate();
            }
        }
    }
}
