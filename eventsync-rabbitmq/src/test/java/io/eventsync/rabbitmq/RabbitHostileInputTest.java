package io.eventsync.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.impl.LongStringHelper;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.PostgresCopy;
import io.eventsync.rabbitmq.internal.RabbitTopology;
import io.eventsync.transport.CopyUnderTest;
import io.eventsync.transport.HostileCorpus;
import io.eventsync.transport.HostileInputContract;
import io.eventsync.transport.NameRecordingTransport;
import io.eventsync.transport.RawRecord;
import io.eventsync.transport.RawRecord.Expect;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * The hostile-input contract on RabbitMQ (127.0.0.1:5672): records published to the topic's exchange
 * with the AMQP client on a channel of the test's own, routed as eventsync's publisher routes. Its own
 * malformed properties: a key header that is a number, raw bytes, or not UTF-8, an empty key header,
 * a JSON content type, a gzip content encoding.
 */
class RabbitHostileInputTest extends HostileInputContract {
    private static final String KEY = "eventsync-key";
    private static final int PARTITIONS = 2;
    /** Metadata: the key header's value as the AMQP client should send it (replacing the record's key). */
    private static final String KEY_HEADER = "key-header";
    private static final String CONTENT_TYPE = "content-type";
    private static final String CONTENT_ENCODING = "content-encoding";

    private final RabbitCleanup cleanup = new RabbitCleanup();
    private RabbitTransport rabbit;

    @Override
    protected Transport newTransport() {
        rabbit = RabbitTransport.builder().partitions(PARTITIONS).build();
        return new NameRecordingTransport(rabbit, topic -> cleanup.topic(rabbit, topic), spec -> cleanup.group(rabbit, spec));
    }

    @Override
    protected CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) {
        return PostgresCopy.create(subscription, codec);
    }

    @Override
    protected RawWriter rawWriter(String topic) throws Exception {
        cleanup.topic(rabbit, topic);
        rabbit.publisher(topic).close(); // declares the exchange; nothing is sent through it
        String exchange = rabbit.exchangeName(topic);
        Channel channel = rabbit.publishingConnection().createChannel();
        channel.confirmSelect();
        return new RawWriter() {
            @Override
            public void write(RawRecord record) throws Exception {
                Map<String, Object> headers = new HashMap<>();
                Object key = record.metadata().containsKey(KEY_HEADER) ? record.metadata().get(KEY_HEADER) : record.key();
                if (key != null) {
                    headers.put(KEY, key);
                }
                AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().deliveryMode(2)
                        .contentType((String) record.metadata().getOrDefault(CONTENT_TYPE, "application/protobuf"))
                        .contentEncoding((String) record.metadata().get(CONTENT_ENCODING))
                        .headers(headers).build();
                String routingKey = RabbitTopology.routingKey(record.key() == null ? "" : record.key(), PARTITIONS);
                channel.basicPublish(exchange, routingKey, false, props, record.value());
            }

            @Override
            public void flush() throws Exception {
                channel.waitForConfirmsOrDie(30_000);
            }

            @Override
            public void close() throws Exception {
                channel.close();
            }
        };
    }

    @Override
    protected void addOwnMalformedRecords(HostileCorpus corpus) {
        own(corpus, "rabbit-key-header-number", Map.of(KEY_HEADER, 42), "eventsync-key is not a UTF-8 string: Integer '42'");
        own(corpus, "rabbit-key-header-bytes", Map.of(KEY_HEADER, new byte[] {1, 2}), "eventsync-key is not a UTF-8 string");
        own(corpus, "rabbit-key-header-not-utf8",
                Map.of(KEY_HEADER, LongStringHelper.asLongString(new byte[] {'k', (byte) 0xC3, 0x28})),
                "eventsync-key is not a UTF-8 string: not UTF-8: 0x6bc328");
        own(corpus, "rabbit-key-header-empty", Map.of(KEY_HEADER, ""), "eventsync-key is empty");
        own(corpus, "rabbit-json-content-type", Map.of(CONTENT_TYPE, "application/json"),
                "content-type is 'application/json'");
        own(corpus, "rabbit-gzip-content-encoding", Map.of(CONTENT_ENCODING, "gzip"), "content-encoding is 'gzip'");
    }

    /** A valid envelope of a key of its own, with one property wrong: the property is the reason. */
    private static void own(HostileCorpus corpus, String label, Map<String, Object> metadata, String reason) {
        String key = corpus.hostileKey(label);
        corpus.add(new RawRecord(label, corpus.envelope(key, 1, label).toByteArray(), key, metadata,
                Expect.deadLetter(java.util.regex.Pattern.quote(reason))));
    }

    /** Every event acked: once the consumers are gone (unacked ones go back), the group's queues are empty. */
    @Override
    protected void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception {
        subscription.close();
        try (Channel admin = rabbit.publishingConnection().createChannel()) {
            for (String queue : rabbit.queueNames(spec)) {
                assertThat(admin.queueDeclarePassive(queue).getMessageCount()).as("events left in %s", queue).isZero();
            }
        }
    }

    @AfterEach
    void deleteExchangesAndQueues() throws Exception {
        cleanup.deleteAll();
    }
}
