package io.eventsync.rabbitmq.internal;

import com.rabbitmq.client.impl.recovery.RecordedBinding;
import com.rabbitmq.client.impl.recovery.RecordedConsumer;
import com.rabbitmq.client.impl.recovery.RecordedExchange;
import com.rabbitmq.client.impl.recovery.RecordedQueue;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryFilter;

/**
 * Recovery restores connections and channels only. Exchanges, queues and bindings are durable and
 * survive a dropped connection; they are declared on short-lived channels, which the client could not
 * reuse to re-declare them (it would log errors for each). Consumers restart themselves when their
 * channel is back ({@link PartitionConsumer}): a group's parked queue, if it still exists, must be read
 * again before the group's queue, which the client's own consumer recovery cannot know.
 */
public final class ChannelsOnlyRecovery implements TopologyRecoveryFilter {
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

    @Override
    public boolean filterConsumer(RecordedConsumer consumer) {
        return false;
    }
}
