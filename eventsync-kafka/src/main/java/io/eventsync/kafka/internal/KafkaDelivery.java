package io.eventsync.kafka.internal;

import io.eventsync.transport.Delivery;
import org.apache.kafka.common.header.Headers;

/**
 * One record handed to the delivery handler; its ack moves its partition's acknowledged offset.
 *
 * @param bytes         the encoded envelope, or for a record with a {@code defect} the raw record value
 *                      (empty for a null value)
 * @param recordKey     the record key as UTF-8, or null when the record has none
 * @param defect        null for a well-formed eventsync event, else what is wrong with the record
 * @param defectHeaders the record's headers, kept only for a defective record (its letter shows them)
 */
record KafkaDelivery(PartitionProgress progress, long offset, byte[] bytes, String recordKey, String defect,
                     Headers defectHeaders) implements Delivery {
    /** Bound on the headers shown in the origin of a defective record; the letter's reason names the defect. */
    static final int MAX_ORIGIN_HEADER_CHARS = 4096;

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
    public String transportKey() {
        return recordKey == null ? "" : recordKey;
    }

    /** Built on demand: only dead letters and logs ask, so the hot path allocates nothing for it. */
    @Override
    public String origin() {
        StringBuilder origin = new StringBuilder(64).append("kafka topic ").append(progress.partition.topic())
                .append(" partition ").append(progress.partition.partition()).append(" offset ").append(offset);
        if (defect != null) {
            origin.append(" key ").append(recordKey == null ? "null" : RecordText.quote(recordKey));
            origin.append(" headers {").append(defectHeaders == null ? ""
                    : RecordText.headers(defectHeaders, MAX_ORIGIN_HEADER_CHARS)).append('}');
        }
        return origin.toString();
    }

    @Override
    public void ack() {
        progress.ack(offset);
    }

    @Override
    public String toString() {
        return "KafkaDelivery[" + progress.name + "@" + offset + (defect == null ? "" : ", defect: " + defect) + "]";
    }
}
