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

    /**
     * Where this record came from, for dead letters and logs: e.g. {@code kafka topic orders partition 3
     * offset 17}. For a record with a {@link #defect()}, it also lists the record's headers or attributes
     * (bounded), so the letter keeps everything the record carried besides its value.
     */
    default String origin() {
        return partition() + " offset " + offset();
    }

    /**
     * The record's key as the transport itself carries it (the Kafka record key, the partition key a
     * relay put in a header or routing key), or empty when it has none. Only this key, never one read
     * out of bytes that failed to decode, may park a key when the record is not a well-formed event.
     */
    default String transportKey() {
        return "";
    }

    /**
     * Null for a record the transport could read; otherwise what is wrong with it, naming the attribute
     * and the bad value (e.g. {@code header ce_time is not an RFC 3339 timestamp: '2024-01-01 10:00:00'},
     * {@code the record value is empty}). The consumer stores such a record as one FAILED dead letter with
     * this reason, without decoding {@link #bytes()}, which then hold the raw record value.
     */
    default String defect() {
        return null;
    }

    /** Marks this event done; see the class contract for when it may be called. */
    void ack();
}
