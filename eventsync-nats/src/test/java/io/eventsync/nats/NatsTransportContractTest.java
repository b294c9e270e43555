package io.eventsync.nats;

import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import io.nats.client.JetStreamManagement;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;

/** The shared transport contract against the NATS JetStream server on 127.0.0.1:4222. */
class NatsTransportContractTest extends TransportContract {
    private final Set<String> topics = ConcurrentHashMap.newKeySet();

    @Override
    protected Transport newTransport() {
        // A short ack wait so that the crash test sees redelivery well inside its deadline.
        NatsTransport nats = NatsTransport.builder()
                .server("nats://127.0.0.1:4222")
                .ackWait(Duration.ofSeconds(5))
                .build();
        return new TopicRecorder(nats);
    }

    @AfterEach
    void deleteStreams() throws Exception {
        try (NatsTransport admin = NatsTransport.builder().server("nats://127.0.0.1:4222").build()) {
            JetStreamManagement jsm = admin.connection().jetStreamManagement();
            for (String topic : topics) {
                String stream = admin.streamName(topic);
                if (jsm.getStreamNames().contains(stream)) {
                    jsm.deleteStream(stream);
                }
            }
        }
    }

    /** Remembers the topics a test used so their streams can be deleted after it. */
    private final class TopicRecorder implements Transport {
        private final NatsTransport delegate;

        TopicRecorder(NatsTransport delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public Publisher publisher(String topic) {
            topics.add(topic);
            return delegate.publisher(topic);
        }

        @Override
        public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
            topics.add(spec.topic());
            return delegate.subscribe(spec, handler);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
