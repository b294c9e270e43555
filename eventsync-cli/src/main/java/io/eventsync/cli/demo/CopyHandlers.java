package io.eventsync.cli.demo;

import com.google.protobuf.Message;
import io.eventsync.EventsyncException;
import io.eventsync.cli.demo.proto.OrderCancelled;
import io.eventsync.cli.demo.proto.OrderPaid;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.demo.proto.OrderShipped;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import java.sql.Connection;
import java.util.HashMap;
import java.util.Map;

/**
 * The handlers of the two copies: each stores only what its service needs. Billing keeps who pays
 * how much and whether it was paid; shipping keeps where it goes and how it travels.
 */
final class CopyHandlers {
    private CopyHandlers() {}

    static HandlerRegistry billing(HandlerOptions options, Faults faults) {
        String t = "billing_orders";
        return HandlerRegistry.builder()
                .on(OrderPlaced.class, faulty(faults, (OrderPlaced e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "customer_id", e.getCustomerId(), "amount_cents", e.getAmountCents(),
                                "currency", e.getCurrency(), "status", "PLACED", "payment_id", null), true)), options)
                .on(OrderPaid.class, faulty(faults, (OrderPaid e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "PAID", "payment_id", e.getPaymentId()), false)), options)
                .on(OrderShipped.class, faulty(faults, (OrderShipped e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "SHIPPED"), false)), options)
                .on(OrderCancelled.class, faulty(faults, (OrderCancelled e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "CANCELLED"), false)), options)
                .build();
    }

    static HandlerRegistry shipping(HandlerOptions options, Faults faults) {
        String t = "shipping_orders";
        return HandlerRegistry.builder()
                .on(OrderPlaced.class, faulty(faults, (OrderPlaced e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "PLACED", "shipping_address", e.getShippingAddress(),
                                "carrier", null, "tracking_number", null), true)), options)
                .on(OrderPaid.class, faulty(faults, (OrderPaid e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "PAID"), false)), options)
                .on(OrderShipped.class, faulty(faults, (OrderShipped e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "SHIPPED", "carrier", e.getCarrier(),
                                "tracking_number", e.getTrackingNumber()), false)), options)
                .on(OrderCancelled.class, faulty(faults, (OrderCancelled e, EventContext ctx) ->
                        CopyRows.apply(connection(ctx), t, e.getOrderId(), ctx.envelope().getSequence(), columns(
                                "status", "CANCELLED"), false)), options)
                .build();
    }

    private static <T extends Message> Handler<T> faulty(Faults faults, Handler<T> handler) {
        return (payload, context) -> {
            faults.beforeHandler(context);
            return handler.handle(payload, context);
        };
    }

    private static Connection connection(EventContext context) {
        return context.resource(Connection.class).orElseThrow(() -> new EventsyncException(
                "no apply connection bound for event " + context.envelope().getId()
                        + "; the copy's dispatcher must use a JdbcApplyScope"));
    }

    private static Map<String, Object> columns(Object... nameValue) {
        Map<String, Object> columns = new java.util.LinkedHashMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            columns.put((String) nameValue[i], nameValue[i + 1]);
        }
        return columns;
    }
}
