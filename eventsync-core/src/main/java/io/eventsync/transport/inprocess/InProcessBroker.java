package io.eventsync.transport.inprocess;

import java.util.concurrent.ConcurrentHashMap;

/** The in-memory topics shared by every client {@link InProcessTransport#connect() connected} to them. */
final class InProcessBroker {
    private final int partitions;
    private final int maxEventBytes;
    private final ConcurrentHashMap<String, InProcessTopic> topics = new ConcurrentHashMap<>();

    InProcessBroker(int partitions, int maxEventBytes) {
        this.partitions = partitions;
        this.maxEventBytes = maxEventBytes;
    }

    int maxEventBytes() {
        return maxEventBytes;
    }

    InProcessTopic topic(String name) {
        return topics.computeIfAbsent(name, n -> new InProcessTopic(n, partitions));
    }
}
