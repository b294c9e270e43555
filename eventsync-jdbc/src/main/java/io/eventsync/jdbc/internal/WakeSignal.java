package io.eventsync.jdbc.internal;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An in-process wake-up for readers of a table (the relay of an outbox, the subscribers of a log
 * topic) by writers in the same JVM. Signals are keyed by database URL, table and name, so an
 * {@code Outbox} and a {@code Relay} built independently meet on the same signal.
 *
 * <p>A signal is a hint, never the source of truth: readers always re-read the table, so a signal
 * that arrives before the writer committed only shortens the next poll.
 */
public final class WakeSignal {
    private static final ConcurrentMap<String, WakeSignal> REGISTRY = new ConcurrentHashMap<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;

    private WakeSignal() {}

    /** The signal for {@code parts} (e.g. URL, qualified table, source or topic); created on first use. */
    public static WakeSignal of(String... parts) {
        return REGISTRY.computeIfAbsent(String.join("|", parts), k -> new WakeSignal());
    }

    /**
     * A PostgreSQL notification channel for {@code parts}: a stable hash, so that any table or topic
     * name maps to a short, plain identifier (LISTEN needs one; NOTIFY takes it as a string).
     */
    public static String channel(String... parts) {
        String hash = UUID.nameUUIDFromBytes(String.join("|", parts).getBytes(StandardCharsets.UTF_8))
                .toString().replace("-", "").substring(0, 20);
        return "eventsync_" + hash;
    }

    public void signal() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the generation moves past {@code seen} or the timeout passes.
     *
     * @return true when signalled
     */
    public boolean await(long seen, long timeoutMillis) throws InterruptedException {
        long nanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        lock.lock();
        try {
            while (generation == seen) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
