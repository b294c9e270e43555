package io.eventsync.cli.demo;

import com.google.protobuf.Message;
import io.eventsync.cli.demo.proto.OrderCancelled;
import io.eventsync.cli.demo.proto.OrderPaid;
import io.eventsync.cli.demo.proto.OrderPlaced;
import io.eventsync.cli.demo.proto.OrderShipped;
import java.util.random.RandomGenerator;

/**
 * The next change of an order, from its current status: a new order is placed (also on a key whose
 * last order shipped or was cancelled), a placed order is paid or cancelled, a paid order ships or is
 * cancelled. Stateless; the status lives with the caller.
 */
final class Workload {
    private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "CHF"};
    private static final String[] CARRIERS = {"DHL", "UPS", "PostNL", "DPD"};
    private static final String[] STREETS = {"Main St", "Harbour Rd", "Station Sq", "Mill Lane", "Park Ave"};
    private static final String[] REASONS = {"customer changed mind", "payment declined", "out of stock"};

    private Workload() {}

    static Message next(String orderId, String status, RandomGenerator random) {
        switch (status == null ? "NONE" : status) {
            case "PLACED":
                return random.nextDouble() < 0.8 ? paid(orderId, random) : cancelled(orderId, random);
            case "PAID":
                return random.nextDouble() < 0.85 ? shipped(orderId, random) : cancelled(orderId, random);
            default:
                return placed(orderId, random);
        }
    }

    static String statusAfter(Message event) {
        if (event instanceof OrderPlaced) {
            return "PLACED";
        }
        if (event instanceof OrderPaid) {
            return "PAID";
        }
        if (event instanceof OrderShipped) {
            return "SHIPPED";
        }
        return "CANCELLED";
    }

    /** An event that breaks its constraints (negative amount, a four-letter currency, no customer). */
    static OrderPlaced invalid(String orderId, RandomGenerator random) {
        return OrderPlaced.newBuilder().setOrderId(orderId).setCustomerId("")
                .setAmountCents(-1 - random.nextInt(1000)).setCurrency("EURO")
                .setShippingAddress("nowhere").build();
    }

    private static OrderPlaced placed(String orderId, RandomGenerator random) {
        return OrderPlaced.newBuilder()
                .setOrderId(orderId)
                .setCustomerId(String.format("cust-%05d", random.nextInt(50_000)))
                .setAmountCents(100 + random.nextInt(99_900))
                .setCurrency(CURRENCIES[random.nextInt(CURRENCIES.length)])
                .setShippingAddress((1 + random.nextInt(200)) + " " + STREETS[random.nextInt(STREETS.length)])
                .build();
    }

    private static OrderPaid paid(String orderId, RandomGenerator random) {
        return OrderPaid.newBuilder().setOrderId(orderId)
                .setPaymentId(String.format("pay-%08x", random.nextInt() & 0x7fffffff))
                .setAmountCents(100 + random.nextInt(99_900)).build();
    }

    private static OrderShipped shipped(String orderId, RandomGenerator random) {
        return OrderShipped.newBuilder().setOrderId(orderId)
                .setCarrier(CARRIERS[random.nextInt(CARRIERS.length)])
                .setTrackingNumber(String.format("TRK%09d", random.nextInt(1_000_000_000))).build();
    }

    private static OrderCancelled cancelled(String orderId, RandomGenerator random) {
        return OrderCancelled.newBuilder().setOrderId(orderId)
                .setReason(REASONS[random.nextInt(REASONS.length)]).build();
    }
}
