package io.eventsync.handler.internal;

import java.util.List;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Enforces handler deadlines for every lane of a dispatcher, on one named thread. At an attempt's
 * deadline it fires the cancellation token and interrupts the runner; if the handler still has not
 * returned when the grace period ends, the attempt is abandoned and the listener replaces the runner.
 *
 * <p>The queue holds at most one watch per lane plus a few expiring grace watches, so removing a
 * finished attempt's watch is cheap.
 */
final class Watchdog {
    private static final Logger log = LoggerFactory.getLogger(Watchdog.class);

    interface Listener {
        void timedOut(Attempt attempt);

        /** Called once the attempt is abandoned; {@code abortHooks} have not run yet. */
        void abandoned(Attempt attempt, List<Runnable> abortHooks);
    }

    private final DelayQueue<Watch> queue = new DelayQueue<>();
    private final Listener listener;
    private final Thread thread;
    private volatile boolean running = true;

    Watchdog(String name, Listener listener) {
        this.listener = listener;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    Watch watch(Attempt attempt) {
        Watch watch = new Watch(attempt);
        queue.add(watch);
        return watch;
    }

    void unwatch(Watch watch) {
        queue.remove(watch);
    }

    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        while (running) {
            Watch watch;
            try {
                watch = queue.take();
            } catch (InterruptedException e) {
                if (!running) {
                    return;
                }
                continue;
            }
            try {
                if (!watch.inGrace) {
                    if (watch.attempt.timeOut()) {
                        listener.timedOut(watch.attempt);
                        watch.inGrace = true;
                        watch.dueNanos = watch.attempt.deadlineNanos + watch.attempt.graceNanos;
                        queue.add(watch);
                    }
                } else {
                    List<Runnable> hooks = watch.attempt.abandon();
                    if (hooks != null) {
                        listener.abandoned(watch.attempt, hooks);
                    }
                }
            } catch (RuntimeException e) {
                log.error("the handler watchdog failed on event {}; it keeps watching",
                        watch.attempt.envelope().getId(), e);
            }
        }
    }

    /** A deadline of one attempt: first the timeout, then the end of the grace period. */
    static final class Watch implements Delayed {
        final Attempt attempt;
        volatile long dueNanos;
        volatile boolean inGrace;

        Watch(Attempt attempt) {
            this.attempt = attempt;
            this.dueNanos = attempt.deadlineNanos;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(dueNanos, ((Watch) other).dueNanos);
        }
    }
}
