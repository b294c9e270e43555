package io.eventsync.example;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.Position;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.example.proto.OrderCancelled;
import io.eventsync.example.proto.OrderPaid;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.Relay;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The README's quick start as a program: an {@code orders} service writes an order change and its event in
 * one transaction; a relay moves the event to the embedded log; a {@code billing} service keeps a copy.
 * Runs on two H2 file databases; {@code QuickStartTest} runs it in the build so the README stays true.
 */
public final class QuickStart implements AutoCloseable {
    private final HikariDataSource ordersDb;
    private final HikariDataSource billingDb;
    private final Outbox outbox = Outbox.of("orders");
    private final EmbeddedLog log;
    private final Relay relay;
    private final Inbox inbox;
    private final JdbcApplyScope scope;
    private final Dispatcher dispatcher;
    private final Subscription subscription;

    public QuickStart(Path dir) throws SQLException {
        ordersDb = h2(dir.resolve("orders"));
        billingDb = h2(dir.resolve("billing"));
        EventsyncSchema.install(ordersDb);
        EventsyncSchema.install(billingDb);
        try (Connection c = ordersDb.getConnection()) {
            c.createStatement().execute("create table if not exists orders ("
                    + "id varchar(64) primary key, status varchar(20), amount_cents bigint, version bigint)");
            c.createStatement().execute("create table if not exists invoices_cancelled (order_id varchar(64) primary key)");
        }
        try (Connection c = billingDb.getConnection()) {
            c.createStatement().execute("create table if not exists cancelled_invoices (order_id varchar(64) primary key, reason varchar(200))");
        }

        // Relay: moves committed outbox rows to the embedded log (kept in the source's database).
        log = EmbeddedLog.builder().dataSource(ordersDb).offsets(billingDb).build();
        relay = Relay.builder().dataSource(ordersDb).source("orders")
                .publisher(log.publisher("shop.orders")).build().start();

        // Copy service: keep only the declared fields of OrderPaid, handle OrderCancelled by hand.
        CopyTable orders = CopyTable.builder(OrderPaid.getDescriptor(), "billing_orders")
                .key("order_id", "order_id").column("amount_cents").column("currency").build();
        orders.createTable(billingDb);
        inbox = Inbox.builder(billingDb).build();
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(billingDb);
        scope = JdbcApplyScope.builder(inbox).outbox(Outbox.of("billing")).deadLetters(deadLetters).build();
        dispatcher = Dispatcher.builder("billing")
                .types(TypeRegistry.builder().add(OrderPaid.getDefaultInstance())
                        .add(OrderCancelled.getDefaultInstance()).build())
                .handlers(orders.registerOn(HandlerRegistry.builder(), HandlerOptions.defaults())
                        .on(OrderCancelled.class, (event, ctx) -> {
                            Connection tx = ctx.resource(Connection.class).orElseThrow(); // the apply transaction
                            try (PreparedStatement ps = tx.prepareStatement(
                                    "merge into cancelled_invoices key (order_id) values (?, ?)")) {
                                ps.setString(1, event.getOrderId());
                                ps.setString(2, event.getReason());
                                ps.executeUpdate();
                            }
                            return Outcome.applied();
                        }, HandlerOptions.custom().timeout(Duration.ofSeconds(5)).build())
                        .build())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(8)
                .build();
        subscription = log.subscribe(SubscriptionSpec.fanout("shop.orders", "billing"), dispatcher);
    }

    /** Source service: the business change and its event commit together, or neither does. */
    public Position pay(String orderId, long amountCents, long version) throws SQLException {
        try (Connection tx = ordersDb.getConnection()) {
            tx.setAutoCommit(false);
            try (PreparedStatement ps = tx.prepareStatement(
                    "merge into orders key (id) values (?, 'PAID', ?, ?)")) {
                ps.setString(1, orderId);
                ps.setLong(2, amountCents);
                ps.setLong(3, version);
                ps.executeUpdate();
            }
            Position p = outbox.append(tx, Events.create("orders", orderId, version,
                    OrderPaid.newBuilder().setOrderId(orderId).setAmountCents(amountCents).setCurrency("EUR").build()));
            tx.commit();
            return p;
        }
    }

    public Position cancel(String orderId, String reason, long version) throws SQLException {
        try (Connection tx = ordersDb.getConnection()) {
            tx.setAutoCommit(false);
            try (PreparedStatement ps = tx.prepareStatement("update orders set status = 'CANCELLED', version = ? where id = ?")) {
                ps.setLong(1, version);
                ps.setString(2, orderId);
                ps.executeUpdate();
            }
            Position p = outbox.append(tx, Events.create("orders", orderId, version,
                    OrderCancelled.newBuilder().setOrderId(orderId).setReason(reason).build()));
            tx.commit();
            return p;
        }
    }

    /** Read-your-writes: waits until billing's copy has applied the event at {@code position}. */
    public boolean awaitBilling(Position position, Duration timeout) throws InterruptedException {
        return inbox.awaitApplied(position, "billing", timeout);
    }

    public HikariDataSource billingDb() {
        return billingDb;
    }

    @Override
    public void close() {
        subscription.close();
        dispatcher.close();
        scope.close();
        relay.close();
        log.close();
        billingDb.close();
        ordersDb.close();
    }

    private static HikariDataSource h2(Path file) {
        HikariConfig config = new HikariConfig();
        // async: H2's file channel survives a handler thread being interrupted at its timeout.
        config.setJdbcUrl("jdbc:h2:async:" + file.toAbsolutePath());
        config.setUsername("sa");
        config.setMaximumPoolSize(10);
        return new HikariDataSource(config);
    }

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("eventsync-quickstart");
        try (QuickStart app = new QuickStart(dir)) {
            Position paid = app.pay("o-1", 1200, 1);
            System.out.println("paid o-1 at " + paid + "; applied by billing: "
                    + app.awaitBilling(paid, Duration.ofSeconds(10)));
            Position cancelled = app.cancel("o-1", "customer changed their mind", 2);
            System.out.println("cancelled o-1 at " + cancelled + "; applied by billing: "
                    + app.awaitBilling(cancelled, Duration.ofSeconds(10)));
            System.out.println("databases in " + dir);
        }
    }
}
