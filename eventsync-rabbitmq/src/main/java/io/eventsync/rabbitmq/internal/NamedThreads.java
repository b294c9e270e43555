package io.eventsync.rabbitmq.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread factories whose threads say what they do: {@code eventsync-rabbit-consumer-3}. */
public final class NamedThreads {
    private NamedThreads() {
    }

    public static ThreadFactory factory(String prefix) {
        AtomicInteger next = new AtomicInteger(1);
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + "-" + next.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
    }
}
