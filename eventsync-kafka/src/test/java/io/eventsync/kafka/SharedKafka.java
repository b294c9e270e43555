package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

/**
 * One broker for the test classes that only need a broker (not its lifecycle), started on first use and
 * stopped by {@link LocalKafka}'s shutdown hook when the test JVM exits: a broker start costs seconds
 * on a loaded machine. Tests keep apart through their own topic and group names.
 */
final class SharedKafka {
    private static LocalKafka kafka;

    private SharedKafka() {
    }

    static synchronized LocalKafka get() {
        if (kafka == null || !kafka.isRunning()) {
            kafka = LocalKafka.start();
        }
        return kafka;
    }
}
