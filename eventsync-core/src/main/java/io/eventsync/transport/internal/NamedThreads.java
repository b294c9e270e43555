package io.eventsync.transport.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories whose daemon threads say what they do: {@code eventsync-nats-callback-1}.
 *
 * <p>Shared by the transport modules. Machinery, not public API: it may change without notice.
 */
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
