package io.eventsync.kafka.internal;

import io.eventsync.transport.Delivery;

/** One record handed to the delivery handler; its ack moves its partition's acknowledged offset. */
record KafkaDelivery(PartitionProgress progress, long offset, byte[] bytes) implements Delivery {

    @Override
    public String partition() {
        return progress.name;
    }

    /** Kafka does not count deliveries; a redelivery after a crash or a rebalance also reports 1. */
    @Override
    public int deliveryCount() {
        return 1;
    }

    @Override
    public void ack() {
        progress.ack(offset);
    }

    @Override
    public String toString() {
        return "KafkaDelivery[" + progress.name + "@" + offset + "]";
    }
}
