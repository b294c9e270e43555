package io.eventsync.rabbitmq;

import io.eventsync.transport.NameRecordingTransport;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import org.junit.jupiter.api.AfterEach;

/** The shared transport contract against the RabbitMQ broker on 127.0.0.1:5672. */
class RabbitTransportContractTest extends TransportContract {
    private final RabbitCleanup cleanup = new RabbitCleanup();

    @Override
    protected Transport newTransport() {
        RabbitTransport rabbit = RabbitTransport.builder().partitions(2).build();
        // Remembers the topics and groups a test used so that they can be deleted after it.
        return new NameRecordingTransport(rabbit, topic -> cleanup.topic(rabbit, topic), spec -> cleanup.group(rabbit, spec));
    }

    @AfterEach
    void deleteExchangesAndQueues() throws Exception {
        cleanup.deleteAll();
    }
}
