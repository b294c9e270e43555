package io.eventsync.http.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets many long polls wait for a log to grow without each of them querying the database: one named
 * thread reads the heads of the topics someone waits on, at an interval that starts short and doubles
 * while nothing changes (adaptive polling), and wakes the waiters when a head moves. {@link #wake()}
 * (an in-process commit signal) makes it look at once. Nobody waiting means no queries at all.
 */
public final class HeadWatch implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HeadWatch.class);

    private final Object monitor = new Object();
    private final ToLongFunction<String> readHead;
    private final long minIntervalNanos;
    private final long maxIntervalNanos;
    private final Map<String, Long> heads = new ConcurrentHashMap<>();
    private final Map<String, Integer> waiting = new HashMap<>(); // guarded by monitor
    private boolean signalled; // guarded by monitor
    private boolean closed; // guarded by monitor
    private boolean failing; // poller thread only
    private final Thread thread;

    public HeadWatch(String name, ToLongFunction<String> readHead, Duration minInterval, Duration maxInterval) {
        this.readHead = readHead;
        this.minIntervalNanos = minInterval.toNanos();
        this.maxIntervalNanos = maxInterval.toNanos();
        this.thread = new Thread(this::run, "eventsync-http-headwatch-" + name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Blocks until {@code topic}'s head passes {@code from} (an entry at {@code from} exists) or the timeout. */
    public boolean await(String topic, long from, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (monitor) {
            waiting.merge(topic, 1, Integer::sum);
            signalled = true; // a new waiter gets a fresh look, not the poller's current back-off
            monitor.notifyAll();
            try {
                while (true) {
                    Long head = heads.get(topic);
                    if (head != null && head > from) {
                        return true;
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0 || closed) {
                        return false;
                    }
                    monitor.wait(Math.max(1, remaining / 1_000_000));
                }
            } finally {
                waiting.merge(topic, -1, (a, b) -> a + b == 0 ? null : a + b);
            }
        }
    }

    /** Something was appended (an in-process commit signal): read the heads now. */
    public void wake() {
        synchronized (monitor) {
            signalled = true;
            monitor.notifyAll();
        }
    }

    private void run() {
        long interval = minIntervalNanos;
        try {
            while (true) {
                List<String> topics;
                synchronized (monitor) {
                    while (waiting.isEmpty() && !closed) {
                        monitor.wait();
                    }
                    if (closed) {
                        return;
                    }
                    topics = List.copyOf(waiting.keySet());
                }
                boolean moved = false;
                for (String topic : topics) {
                    try {
                        long head = readHead.applyAsLong(topic);
                        Long before = heads.put(topic, head);
                        moved |= before == null || before != head;
                        failing = false;
                    } catch (RuntimeException e) {
                        // Waiters time out and their clients retry; the poller keeps going (and backs off,
                        // since nothing moved). Logged once per outage, not once per poll.
                        if (!failing) {
                            log.warn("reading the head of log topic {} failed; long polls wait for the next try", topic, e);
                        }
                        failing = true;
                    }
                }
                synchronized (monitor) {
                    if (moved) {
                        monitor.notifyAll();
                    }
                    interval = moved ? minIntervalNanos : Math.min(maxIntervalNanos, interval * 2);
                    if (!signalled) {
                        monitor.wait(Math.max(1, interval / 1_000_000));
                    }
                    if (signalled) {
                        interval = minIntervalNanos;
                    }
                    signalled = false;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        synchronized (monitor) {
            closed = true;
            monitor.notifyAll();
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
