package io.eventsync.rabbitmq.internal;

import com.rabbitmq.client.impl.recovery.RecordedBinding;
import com.rabbitmq.client.impl.recovery.RecordedExchange;
import com.rabbitmq.client.impl.recovery.RecordedQueue;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryFilter;

/**
 * Recovery re-registers consumers only. Exchanges, queues and bindings are durable and survive a
 * dropped connection; they are declared on short-lived channels, which the client could not reuse to
 * re-declare them (it would log errors for each).
 */
public final class ConsumersOnlyRecovery implements TopologyRecoveryFilter {
    @Override
    public boolean filterExchange(RecordedExchange exchange) {
        return false;
    }

    @Override
    public boolean filterQueue(RecordedQueue queue) {
        return false;
    }

    @Override
    public boolean filterBinding(RecordedBinding binding) {
        return false;
    }
}
