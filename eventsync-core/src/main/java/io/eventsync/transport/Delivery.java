package io.eventsync.transport;

/**
 * One event handed by a transport to its consumer.
 *
 * <p>Within a {@link #partition()} offsets increase in delivery order. The consumer calls {@link #ack()}
 * exactly once per delivery, in offset order per partition, and only when this event and every
 * earlier one of its partition is applied, skipped or dead-lettered; a transport never has to handle
 * an out-of-order ack. An event never acknowledged is delivered again (after a crash, a rebalance or
 * a reconnect), so delivery is at least once and the consumer deduplicates.
 */
public interface Delivery {

    /** The ordering scope of {@link #offset()}: a Kafka partition, a queue, a stream; never null. */
    String partition();

    /** Position of this event within its partition; increases with delivery order. */
    long offset();

    /** The encoded envelope. */
    byte[] bytes();

    /** 1 on first delivery; more when the transport knows it is a redelivery, else 1. */
    int deliveryCount();

    /** Marks this event done; see the class contract for when it may be called. */
    void ack();
}
