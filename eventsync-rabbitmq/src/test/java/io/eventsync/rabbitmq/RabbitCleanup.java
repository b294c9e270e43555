package io.eventsync.rabbitmq;

import com.rabbitmq.client.Channel;
import io.eventsync.transport.SubscriptionSpec;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Remembers the exchanges and queues a test used and deletes them after it. */
final class RabbitCleanup {
    private final Set<String> exchanges = ConcurrentHashMap.newKeySet();
    private final Set<String> queues = ConcurrentHashMap.newKeySet();

    void topic(RabbitTransport transport, String topic) {
        exchanges.add(transport.exchangeName(topic));
        exchanges.add(transport.unroutedQueueName(topic));
        queues.add(transport.unroutedQueueName(topic));
    }

    void group(RabbitTransport transport, SubscriptionSpec spec) {
        topic(transport, spec.topic());
        queues.addAll(transport.queueNames(spec));
        queues.addAll(transport.parkedQueueNames(spec));
    }

    void deleteAll() throws Exception {
        try (RabbitTransport admin = RabbitTransport.builder().build();
             Channel channel = admin.publishingConnection().createChannel()) {
            for (String queue : queues) {
                channel.queueDelete(queue); // a missing queue is not an error for queue.delete
            }
            for (String exchange : exchanges) {
                channel.exchangeDelete(exchange);
            }
        }
    }
}
