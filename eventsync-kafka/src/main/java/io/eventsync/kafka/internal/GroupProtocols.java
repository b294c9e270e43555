package io.eventsync.kafka.internal;

import io.eventsync.kafka.KafkaGroupProtocol;
import org.apache.kafka.clients.consumer.GroupProtocol;

/**
 * Which group protocol a transport's next subscription starts with: the configured one, or for
 * {@link KafkaGroupProtocol#AUTO} the consumer protocol until the cluster has refused it once, then the
 * classic one for good (a cluster does not gain the protocol while a process runs it; a restart retries).
 */
public final class GroupProtocols {
    private final KafkaGroupProtocol configured;
    private volatile GroupProtocol current;

    public GroupProtocols(KafkaGroupProtocol configured) {
        this.configured = configured;
        this.current = configured == KafkaGroupProtocol.CLASSIC ? GroupProtocol.CLASSIC : GroupProtocol.CONSUMER;
    }

    public KafkaGroupProtocol configured() {
        return configured;
    }

    public GroupProtocol current() {
        return current;
    }

    /**
     * The cluster refused {@code refused}; true when a subscription should retry with the classic
     * protocol (only under {@link KafkaGroupProtocol#AUTO}).
     */
    boolean fallBack(GroupProtocol refused) {
        if (configured != KafkaGroupProtocol.AUTO || refused != GroupProtocol.CONSUMER) {
            return false;
        }
        current = GroupProtocol.CLASSIC;
        return true;
    }
}
