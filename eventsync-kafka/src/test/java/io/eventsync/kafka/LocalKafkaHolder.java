package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

/**
 * A JVM that starts a broker, says so on stdout and then waits to be killed: the parent in
 * {@link LocalKafkaTest#theBrokerDiesWhenTheJvmThatStartedItIsKilled()}.
 */
public final class LocalKafkaHolder {
    private LocalKafkaHolder() {
    }

    public static void main(String[] args) throws InterruptedException {
        LocalKafka kafka = LocalKafka.start();
        System.out.println("READY " + kafka.pid() + " " + kafka.dataDirectory());
        System.out.flush();
        new java.util.concurrent.CountDownLatch(1).await();
    }
}
