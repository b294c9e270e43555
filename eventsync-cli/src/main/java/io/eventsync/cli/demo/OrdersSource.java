package io.eventsync.cli.demo;

import com.google.protobuf.Message;
import io.eventsync.cli.demo.proto.OrderCancelled;
import io.eventsync.cli.demo.proto.OrderPaid;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.demo.proto.OrderShipped;
import io.eventsync.envelope.Events;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;

/**
 * The orders service: changes an order row and appends the matching event to its outbox in one
 * local transaction (no dual write), with the order's version as the event's sequence.
 */
final class OrdersSource {
    static final String SOURCE = "orders";

    /** Appends an event to the outbox on the caller's transaction. */
    @FunctionalInterface
    interface OutboxWriter {
        void append(Connection connection, Envelope event) throws SQLException;
    }

    private final DataSource dataSource;
    private final OutboxWriter outbox;
    /** Source commit time (System.nanoTime, taken right before commit) per event id, for freshness. */
    private final Map<String, Long> commitNanos = new ConcurrentHashMap<>();

    OrdersSource(DataSource dataSource, OutboxWriter outbox) {
        this.dataSource = dataSource;
        this.outbox = outbox;
    }

    /**
     * Applies {@code change} to order {@code orderId} at {@code version} and records its event, atomically.
     * A transaction the database rolled back (deadlock, serialization failure) is tried again.
     */
    Envelope write(String orderId, long version, Message change) throws SQLException {
        for (int attempt = 1; ; attempt++) {
            try {
                return writeOnce(orderId, version, change);
            } catch (java.sql.SQLTransactionRollbackException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private Envelope writeOnce(String orderId, long version, Message change) throws SQLException {
        Envelope event = Events.create(SOURCE, orderId, version, change);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                updateRow(c, orderId, version, change);
                outbox.append(c, event);
                commitNanos.put(event.getId(), System.nanoTime());
                c.commit();
            } catch (SQLException | RuntimeException e) {
                commitNanos.remove(event.getId());
                c.rollback();
                throw e;
            }
        }
        return event;
    }

    /** Appends an event without changing any row: what a buggy producer does. Used for invalid events. */
    Envelope writeEventOnly(String subject, long version, Message payload) throws SQLException {
        Envelope event = Events.create(SOURCE, subject, version, payload);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            outbox.append(c, event);
            c.commit();
        }
        return event;
    }

    Long commitNanos(String eventId) {
        return commitNanos.get(eventId);
    }

    private static void updateRow(Connection c, String orderId, long version, Message change) throws SQLException {
        if (change instanceof OrderPlaced e) {
            // A new order, or a new order on a key whose previous order ended: every column is reset.
            int updated = version == 1 ? 0 : update(c, "UPDATE orders SET customer_id = ?, amount_cents = ?, currency = ?,"
                    + " shipping_address = ?, status = 'PLACED', payment_id = NULL, carrier = NULL,"
                    + " tracking_number = NULL, cancel_reason = NULL, version = ? WHERE order_id = ?",
                    e.getCustomerId(), e.getAmountCents(), e.getCurrency(), e.getShippingAddress(), version, orderId);
            if (updated == 0) {
                update(c, "INSERT INTO orders (order_id, customer_id, amount_cents, currency, shipping_address,"
                        + " status, version) VALUES (?, ?, ?, ?, ?, 'PLACED', ?)",
                        orderId, e.getCustomerId(), e.getAmountCents(), e.getCurrency(), e.getShippingAddress(), version);
            }
        } else if (change instanceof OrderPaid e) {
            update(c, "UPDATE orders SET status = 'PAID', payment_id = ?, version = ? WHERE order_id = ?",
                    e.getPaymentId(), version, orderId);
        } else if (change instanceof OrderShipped e) {
            update(c, "UPDATE orders SET status = 'SHIPPED', carrier = ?, tracking_number = ?, version = ?"
                    + " WHERE order_id = ?", e.getCarrier(), e.getTrackingNumber(), version, orderId);
        } else if (change instanceof OrderCancelled e) {
            update(c, "UPDATE orders SET status = 'CANCELLED', cancel_reason = ?, version = ? WHERE order_id = ?",
                    e.getReason(), version, orderId);
        } else {
            throw new IllegalArgumentException("not an order event: " + change.getDescriptorForType().getFullName());
        }
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                st.setObject(i + 1, args[i]);
            }
            return st.executeUpdate();
        }
    }
}
