package io.eventsync.kafka.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.kafka.KafkaEncoding;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Headers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends to one topic with its own idempotent producer, so that closing one publisher waits for its own
 * sends only and a failure of one relay's producer cannot disturb another's.
 *
 * <p>Ordering: the producer is idempotent with at most 5 requests in flight per connection, so records
 * of one key (one partition) are stored in send order even when a batch is retried.
 */
public final class KafkaPublisher implements Publisher {
    private static final Logger log = LoggerFactory.getLogger(KafkaPublisher.class);

    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final String topic;
    private final Producer<String, byte[]> producer;
    private final KafkaEncoding encoding;
    private final int maxEventBytes;
    private final Consumer<KafkaPublisher> onClose;
    private final KafkaMetrics.Publishing metrics;
    private volatile boolean closed;

    public KafkaPublisher(String topic, Producer<String, byte[]> producer, KafkaEncoding encoding, int maxEventBytes,
                          KafkaMetrics.Publishing metrics, Consumer<KafkaPublisher> onClose) {
        this.metrics = metrics;
        this.topic = topic;
        this.producer = producer;
        this.encoding = encoding;
        this.maxEventBytes = maxEventBytes;
        this.onClose = onClose;
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Envelope envelope = event.envelope();
        if (closed) {
            done.completeExceptionally(new EventsyncException("publisher for Kafka topic " + topic + " is closed"));
            return done;
        }
        if (event.bytes().length > maxEventBytes) {
            metrics.refused().increment();
            done.completeExceptionally(new PermanentException("event " + envelope.getId() + " (subject "
                    + envelope.getSubject() + ") is " + event.bytes().length + " bytes, over the Kafka transport's"
                    + " limit of " + maxEventBytes + " bytes (maxEventBytes, matched to the producer's"
                    + " max.request.size); make the event smaller or raise maxEventBytes together with the"
                    + " broker's message.max.bytes"));
            return done;
        }
        return sendRecord(toRecord(event, null), envelope, done);
    }

    @Override
    public String transport() {
        return "kafka";
    }

    @Override
    public String destination() {
        return topic;
    }

    /**
     * One record per partition of the topic, each with its partition set explicitly (a heartbeat must
     * be seen in order on every partition, whatever its key hashes to).
     */
    @Override
    public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
        if (closed || event.bytes().length > maxEventBytes) {
            return send(event); // fails with the reason
        }
        List<PartitionInfo> partitions;
        try {
            partitions = producer.partitionsFor(topic);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(classify(event.envelope(), e));
        }
        CompletableFuture<?>[] sent = new CompletableFuture<?>[partitions.size()];
        for (int i = 0; i < sent.length; i++) {
            sent[i] = sendRecord(toRecord(event, partitions.get(i).partition()), event.envelope(), new CompletableFuture<>());
        }
        return CompletableFuture.allOf(sent);
    }

    private CompletableFuture<Void> sendRecord(ProducerRecord<String, byte[]> record, Envelope envelope,
                                               CompletableFuture<Void> done) {
        try {
            producer.send(record, (metadata, error) -> {
                if (error == null) {
                    metrics.ok().increment();
                    done.complete(null);
                } else {
                    metrics.failed().increment();
                    done.completeExceptionally(classify(envelope, error));
                }
            });
        } catch (RuntimeException e) {
            // send() itself throws for what fails before the record is queued (serialization, a closed
            // producer, metadata not available within max.block.ms).
            done.completeExceptionally(classify(envelope, e));
        }
        return done;
    }

    /**
     * Binary mode maps the envelope to headers and carries the payload; that is only faithful when the
     * event's bytes are the envelope's encoding. When they cannot be (their size differs: say a relay
     * forwarding an outbox row it could not decode), the bytes go verbatim in structured mode, so the
     * consumer sees exactly what the outbox held and dead-letters it rather than applying a guess.
     */
    private ProducerRecord<String, byte[]> toRecord(OutboundEvent event, Integer partition) {
        if (encoding == KafkaEncoding.STRUCTURED || event.bytes().length != event.envelope().getSerializedSize()) {
            return new ProducerRecord<>(topic, partition, event.key(), event.bytes(), CloudEventsBinding.structuredHeaders());
        }
        Envelope envelope = event.envelope();
        Headers headers = CloudEventsBinding.binaryHeaders(envelope);
        return new ProducerRecord<>(topic, partition, event.key(), CloudEventsBinding.binaryValue(envelope), headers);
    }

    private EventsyncException classify(Envelope envelope, Throwable error) {
        String message = "Kafka send of event " + envelope.getId() + " (subject " + envelope.getSubject()
                + ") to topic " + topic + " failed: " + error;
        if (error instanceof RecordTooLargeException) {
            return new PermanentException(message + "; the broker's message.max.bytes or the topic's"
                    + " max.message.bytes is lower than maxEventBytes", error);
        }
        if (!(error instanceof RetriableException)) {
            log.debug("non-retriable Kafka send failure for event {} subject {}", envelope.getId(), envelope.getSubject(), error);
        }
        // Everything else may succeed later (broker down, leader moving, timeouts): transient.
        return new EventsyncException(message, error);
    }

    @Override
    public int maxEventBytes() {
        return maxEventBytes;
    }

    public String topic() {
        return topic;
    }

    /**
     * Waits (up to the close timeout) for every send so far to complete, then closes the producer; sends
     * still pending after that fail their futures.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            producer.close(CLOSE_TIMEOUT);
        } catch (RuntimeException e) {
            log.warn("closing the Kafka producer of topic {} failed", topic, e);
        } finally {
            onClose.accept(this);
        }
    }
}
