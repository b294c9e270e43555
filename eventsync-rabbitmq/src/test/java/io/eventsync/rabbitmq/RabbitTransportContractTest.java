package io.eventsync.rabbitmq;

import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import org.junit.jupiter.api.AfterEach;

/** The shared transport contract against the RabbitMQ broker on 127.0.0.1:5672. */
class RabbitTransportContractTest extends TransportContract {
    private final RabbitCleanup cleanup = new RabbitCleanup();

    @Override
    protected Transport newTransport() {
        return new Recording(RabbitTransport.builder().partitions(2).build());
    }

    @AfterEach
    void deleteExchangesAndQueues() throws Exception {
        cleanup.deleteAll();
    }

    /** Remembers the topics and groups a test used so that they can be deleted after it. */
    private final class Recording implements Transport {
        private final RabbitTransport delegate;

        Recording(RabbitTransport delegate) {
            this.delegate = delegate;
        }

        @Override
        public String name() {
            return delegate.name();
        }

        @Override
        public Publisher publisher(String topic) {
            cleanup.topic(delegate, topic);
            return delegate.publisher(topic);
        }

        @Override
        public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
            cleanup.group(delegate, spec);
            return delegate.subscribe(spec, handler);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
