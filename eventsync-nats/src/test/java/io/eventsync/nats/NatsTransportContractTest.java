package io.eventsync.nats;

import io.eventsync.transport.NameRecordingTransport;
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
        // Remembers the topics a test used so their streams can be deleted after it.
        return new NameRecordingTransport(nats, topics::add, spec -> topics.add(spec.topic()));
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
}
