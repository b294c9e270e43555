package io.eventsync.envelope;

import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.v1.Envelope;

/** Valid sample events for tests. */
final class TestEvents {
    private TestEvents() {}

    static OrderPlaced order() {
        return OrderPlaced.newBuilder()
                .setOrderId("o-1")
                .setCustomerEmail("ada@example.com")
                .setAmountCents(1999)
                .setCurrency("EUR")
                .addItems(LineItem.newBuilder().setSku("sku-1").setQuantity(2))
                .putLabels("channel", "web")
                .build();
    }

    static Envelope orderPlaced() {
        return Events.create("shop-orders", "order-1", 1, order());
    }
}
