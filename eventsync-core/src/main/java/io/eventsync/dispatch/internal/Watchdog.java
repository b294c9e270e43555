package io.eventsync.dispatch.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces handler deadlines for every lane of a dispatcher, on one named thread. At an attempt's
 * deadline it fires the cancellation token and interrupts the runner; if the handler still has not
 * returned when the grace period ends, the attempt is abandoned and the listener replaces the runner.
 *
 * <p>Why not a DelayQueue or a scheduled task per attempt: both wake this thread (or take a shared
 * lock) for nearly every event, since a new attempt often becomes the earliest deadline. Here the
 * thread sleeps until the earliest deadline it knows of; a lane signals it only when it starts an
 * attempt due before that, which under steady load (equal timeouts, later starts) is never. Per event
 * the cost is one add and one remove on a concurrent set and a volatile read.
 */
final class Watchdog {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);
    /** {@link #plannedWake} while the thread is scanning: a lane that sees it must signal. */
    private static final long SCANNING = Long.MIN_VALUE;
    private static final long IDLE = Long.MAX_VALUE;

    interface Listener {
        void timedOut(Attempt attempt);

        /** Called once the attempt is abandoned; {@code abortHooks} have not run yet. */
        void abandoned(Attempt attempt, List<Runnable> abortHooks);
    }

    private final Set<Attempt> active = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Listener listener;
    private final Thread thread;
    /** When the thread will next look, as {@link System#nanoTime()}; see {@link #SCANNING}, {@link #IDLE}. */
    private volatile long plannedWake = SCANNING;
    private volatile boolean running = true;

    Watchdog(String name, Listener listener) {
        this.listener = listener;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    void watch(Attempt attempt) {
        active.add(attempt); // before reading plannedWake: a scan that starts later sees it
        long planned = plannedWake;
        if (planned == SCANNING || planned == IDLE || attempt.deadlineNanos - planned < 0) {
            signal();
        }
    }

    void unwatch(Attempt attempt) {
        active.remove(attempt);
    }

    void stop() {
        running = false;
        signal();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void signal() {
        lock.lock();
        try {
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        List<Attempt> expired = new ArrayList<>();
        while (running) {
            long next = IDLE;
            lock.lock();
            try {
                plannedWake = SCANNING;
                long now = System.nanoTime();
                for (Attempt a : active) {
                    long due = a.timedOut() ? a.deadlineNanos + a.graceNanos : a.deadlineNanos;
                    if (due - now <= 0) {
                        expired.add(a);
                    } else if (next == IDLE || due - next < 0) {
                        next = due;
                    }
                }
                if (expired.isEmpty()) {
                    plannedWake = next;
                    if (next == IDLE) {
                        wake.await();
                    } else {
                        wake.awaitNanos(next - now);
                    }
                }
            } catch (InterruptedException e) {
                if (!running) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            for (Attempt a : expired) {
                expire(a);
            }
            expired.clear();
        }
    }

    private void expire(Attempt a) {
        try {
            if (!a.timedOut()) {
                if (a.timeOut()) {
                    listener.timedOut(a);
                } else {
                    active.remove(a); // it returned meanwhile
                }
            } else {
                active.remove(a);
                List<Runnable> hooks = a.abandon();
                if (hooks != null) {
                    listener.abandoned(a, hooks);
                }
            }
        } catch (RuntimeException e) {
            log.error("the handler watchdog failed on event {}; it keeps watching", a.envelope().getId(), e);
        }
    }
}
