package io.eventsync.handler.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lane: the keys hashed to it, each with its own FIFO of entries, and one runner thread that
 * processes them. Invariants:
 * <ul>
 *   <li>a key's entries run one at a time, oldest first, so per-key order holds across retries,
 *       abandonment, parking and release;</li>
 *   <li>a key is in at most one of {@code ready} (may run now), running, or {@code delayed} (waiting
 *       for a retry backoff); a key waiting for its backoff never blocks the other keys of the lane;</li>
 *   <li>waiting is a timed wait on a condition until the next backoff ends or an entry arrives.</li>
 * </ul>
 * The runner thread is replaceable: when the watchdog abandons a handler that ignores cancellation,
 * a fresh runner takes over the lane and finishes the abandoned entry (as a failed attempt).
 */
final class Lane {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    /** How long a key waits after its runner died on an unexpected error, before its head runs again. */
    static final long CRASH_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** Processes the head entry of a key on the calling runner. */
    interface Processor {
        Step process(Entry head, Runner runner);
    }

    private final String name;
    private final Processor processor;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Map<String, KeyQueue> keys = new HashMap<>();
    private final ArrayDeque<KeyQueue> ready = new ArrayDeque<>();
    private final PriorityQueue<KeyQueue> delayed =
            new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
    private Runner current; // guarded by lock
    private int generation; // guarded by lock
    private boolean stopping; // guarded by lock

    Lane(String name, Processor processor) {
        this.name = name;
        this.processor = processor;
    }

    void start() {
        Runner runner;
        lock.lock();
        try {
            runner = newRunner(null);
        } finally {
            lock.unlock();
        }
        runner.thread.start();
    }

    void enqueue(Entry entry) {
        lock.lock();
        try {
            KeyQueue kq = keys.get(entry.key);
            if (kq == null) {
                kq = new KeyQueue(entry.key);
                keys.put(entry.key, kq);
                kq.entries.addLast(entry);
                kq.state = KeyQueue.State.READY;
                ready.addLast(kq);
                wake.signal();
            } else {
                kq.entries.addLast(entry); // behind a running, waiting or ready head: it keeps its turn
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Called by the watchdog when {@code abandoned}'s handler ignored cancellation: a fresh runner
     * takes over the lane and first finishes the key the abandoned runner was working on.
     */
    void replace(Runner abandoned) {
        Runner fresh;
        lock.lock();
        try {
            if (stopping || current != abandoned) {
                return;
            }
            fresh = newRunner(abandoned.working);
        } finally {
            lock.unlock();
        }
        fresh.thread.start();
    }

    /**
     * The runner died on an unexpected error while working on {@code kq} (null when between keys): a
     * fresh runner takes over, and the key waits {@link #CRASH_PAUSE_NANOS} before its head runs again.
     */
    private void takeOver(Runner dead, KeyQueue kq) {
        Runner fresh;
        lock.lock();
        try {
            if (stopping || current != dead) {
                return;
            }
            if (kq != null && kq.state == KeyQueue.State.RUNNING) {
                kq.state = KeyQueue.State.WAITING;
                kq.dueNanos = System.nanoTime() + CRASH_PAUSE_NANOS;
                delayed.add(kq);
            }
            fresh = newRunner(null);
        } finally {
            lock.unlock();
        }
        fresh.thread.start();
    }

    /** Stops taking entries; interrupts the runner (its handler's token is cancelled by the caller). */
    Runner stop() {
        lock.lock();
        try {
            stopping = true;
            wake.signalAll();
            return current;
        } finally {
            lock.unlock();
        }
    }

    String name() {
        return name;
    }

    private Runner newRunner(KeyQueue initial) {
        generation++;
        String threadName = generation == 1 ? name : name + "-" + generation;
        current = new Runner(threadName, initial);
        return current;
    }

    /** Blocks until a key may run; null when this runner must exit. */
    private KeyQueue next(Runner runner) {
        lock.lock();
        try {
            while (true) {
                if (stopping || current != runner) {
                    return null;
                }
                long now = System.nanoTime();
                while (!delayed.isEmpty() && delayed.peek().dueNanos - now <= 0) {
                    KeyQueue due = delayed.poll();
                    due.state = KeyQueue.State.READY;
                    ready.addLast(due);
                }
                KeyQueue kq = ready.pollFirst();
                if (kq != null) {
                    kq.state = KeyQueue.State.RUNNING;
                    return kq;
                }
                try {
                    if (delayed.isEmpty()) {
                        wake.await();
                    } else {
                        wake.awaitNanos(delayed.peek().dueNanos - now);
                    }
                } catch (InterruptedException e) {
                    // A stop, or a timeout interrupt that raced with the handler's return: re-check.
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private Entry head(KeyQueue kq) {
        lock.lock();
        try {
            return kq.entries.peekFirst();
        } finally {
            lock.unlock();
        }
    }

    private void complete(KeyQueue kq, Step step) {
        lock.lock();
        try {
            if (step.kind == Step.Kind.RETRY) {
                kq.state = KeyQueue.State.WAITING;
                kq.dueNanos = System.nanoTime() + step.delayNanos;
                delayed.add(kq);
                wake.signal();
                return;
            }
            kq.entries.pollFirst();
            if (kq.entries.isEmpty()) {
                keys.remove(kq.key);
            } else {
                kq.state = KeyQueue.State.READY;
                ready.addLast(kq);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The thread of a lane. Replaced, never reused, when its handler is abandoned. */
    final class Runner implements Runnable {
        final Thread thread;
        private final KeyQueue initial;
        /** The key this runner is processing (read by {@link #replace} after abandonment). */
        volatile KeyQueue working;
        /** The attempt this runner is inside, if any (cancelled when the dispatcher stops). */
        volatile Attempt attempt;

        private Runner(String threadName, KeyQueue initial) {
            this.initial = initial;
            this.thread = new Thread(this, threadName);
            this.thread.setDaemon(true); // a zombie handler that never returns must not keep the JVM alive
        }

        Lane lane() {
            return Lane.this;
        }

        @Override
        public void run() {
            KeyQueue kq = initial;
            try {
                while (true) {
                    if (kq == null) {
                        kq = next(this);
                        if (kq == null) {
                            return;
                        }
                    }
                    working = kq;
                    Step step = processor.process(head(kq), this);
                    if (step.kind == Step.Kind.ABANDONED || step.kind == Step.Kind.STOPPED) {
                        return; // an abandoned runner's late return changes nothing
                    }
                    complete(kq, step);
                    kq = null;
                }
            } catch (Throwable e) {
                // Nothing may stop a lane: the key's entry stays at its head (unacknowledged) and is tried
                // again after a pause on a fresh runner, while the lane's other keys go on.
                log.error("lane {} hit an unexpected error on key {}; a fresh runner takes over the lane and the"
                        + " key's event is tried again in {} ms", thread.getName(), kq == null ? "?" : kq.key,
                        TimeUnit.NANOSECONDS.toMillis(CRASH_PAUSE_NANOS), e);
                takeOver(this, kq);
                if (e instanceof OutOfMemoryError || e instanceof InternalError) {
                    throw (Error) e;
                }
            }
        }

        boolean join(long millis) throws InterruptedException {
            thread.join(millis);
            return !thread.isAlive();
        }
    }

}
