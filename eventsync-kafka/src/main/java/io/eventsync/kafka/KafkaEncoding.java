package io.eventsync.kafka;

/**
 * How an event is laid out in a Kafka record, following the CloudEvents Kafka protocol binding.
 * A subscriber reads both, whatever its own setting, so a topic can switch modes without a migration.
 */
public enum KafkaEncoding {
    /**
     * CloudEvents binary content mode (the default): every attribute in a {@code ce_} header, the payload's
     * protobuf bytes as the record value with a {@code content-type} header. Any CloudEvents SDK reads it,
     * and consumers can filter on headers without parsing the value.
     */
    BINARY,
    /**
     * The whole eventsync envelope as the record value, with content type
     * {@value io.eventsync.kafka.internal.CloudEventsBinding#ENVELOPE_CONTENT_TYPE} and no other header.
     * Fewer bytes per record and the envelope byte-for-byte, but only eventsync reads it: CloudEvents
     * defines its structured protobuf format with its own message schema, not this envelope, so this
     * mode deliberately does not claim {@code application/cloudevents+protobuf}.
     */
    STRUCTURED
}
