package io.eventsync.nats;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.PostgresCopy;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.HostileCorpus;
import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.RawRecord;
import io.eventsync.transport.RawRecord.Expect;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.impl.Headers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * The hostile-input contract on NATS JetStream (127.0.0.1:4222): records published with the NATS
 * client's own JetStream publish. Its own malformed metadata: the key header twice with two values,
 * an empty key header, and a valid event without any header.
 */
class NatsHostileInputTest extends HostileInputContract {
    private static final String KEY = "Eventsync-Key";
    /** Metadata: the values of the key header (replacing the record's key). */
    private static final String KEY_VALUES = "key-header-values";

    private NatsTransport nats;
    private String topic;

    @Override
    protected Transport newTransport() {
        nats = NatsTransport.builder().server("nats://127.0.0.1:4222").build();
        return nats;
    }

    @Override
    protected CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) {
        return PostgresCopy.create(subscription, codec);
    }

    @Override
    protected RawWriter rawWriter(String topic) throws Exception {
        this.topic = topic;
        nats.publisher(topic).close(); // declares the stream; nothing is sent through it
        JetStream jetStream = nats.connection().jetStream();
        String subject = nats.connection().jetStreamManagement().getStreamInfo(nats.streamName(topic))
                .getConfiguration().getSubjects().get(0);
        return new RawWriter() {
            @Override
            public void write(RawRecord record) throws Exception {
                Headers headers = new Headers();
                @SuppressWarnings("unchecked")
                List<String> keys = (List<String>) record.metadata().get(KEY_VALUES);
                if (keys != null) {
                    keys.forEach(value -> headers.add(KEY, value));
                } else if (record.key() != null) {
                    headers.put(KEY, record.key());
                }
                jetStream.publish(subject, headers.isEmpty() ? null : headers, record.value());
            }

            @Override
            public void flush() {
                // Each publish returned once the stream stored it.
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    protected void addOwnMalformedRecords(HostileCorpus corpus) {
        String twice = corpus.hostileKey("nats-two-keys");
        corpus.add(new RawRecord("nats-key-header-twice", corpus.envelope(twice, 1, "two keys").toByteArray(),
                twice, Map.of(KEY_VALUES, List.of(twice, "other")), Expect.deadLetter("Eventsync-Key has 2 values")));
        String empty = corpus.hostileKey("nats-empty-key");
        corpus.add(new RawRecord("nats-key-header-empty", corpus.envelope(empty, 1, "empty key").toByteArray(),
                empty, Map.of(KEY_VALUES, List.of("")), Expect.deadLetter("Eventsync-Key is empty")));
        String none = corpus.hostileKey("nats-no-header");
        corpus.add(new RawRecord("nats-no-key-header", corpus.envelope(none, 1, "no header").toByteArray(),
                null, Expect.applied()));
    }

    @Override
    protected void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception {
        JetStreamManagement jsm = nats.connection().jetStreamManagement();
        String stream = nats.streamName(spec.topic());
        long last = jsm.getStreamInfo(stream).getStreamState().getLastSequence();
        ConsumerInfo consumer = jsm.getConsumerInfo(stream, spec.group().replace('.', '_'));
        assertThat(consumer.getNumAckPending()).as("deliveries not acked").isZero();
        assertThat(consumer.getAckFloor().getStreamSequence()).as("ack floor of the durable").isEqualTo(last);
    }

    @AfterEach
    void deleteStream() throws Exception {
        if (topic != null) {
            try (NatsTransport admin = NatsTransport.builder().server("nats://127.0.0.1:4222").build()) {
                JetStreamManagement jsm = admin.connection().jetStreamManagement();
                if (jsm.getStreamNames().contains(admin.streamName(topic))) {
                    jsm.deleteStream(admin.streamName(topic));
                }
            }
        }
    }
}
