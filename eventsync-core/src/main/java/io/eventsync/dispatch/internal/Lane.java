package io.eventsync.dispatch.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>Batches: when entries are waiting, the runner takes up to {@code maxBatch} of them that the
 * processor accepts ({@link Processor#batchable}), within {@code maxBatchBytes}: from each ready key
 * the entries at its front (a key's entries stay together and in order, so a hot key's backlog goes
 * in one unit too), key after key in their ready order, and hands them to
 * {@link Processor#processBatch} as one unit. It never waits for a batch to fill: a lone entry runs
 * alone at once, so batches grow with the backlog only. When the batch does not go through as a
 * whole, the runner processes the entries it took one at a time, key by key in the order taken, a key
 * stopping at its first entry that is not done (a retry), whose later entries stay at its front.
 *
 * <p>Turns ({@link Turns}, shared by the lanes of a dispatcher, optional): a runner takes entries only
 * while it holds a turn, and gives it back before it looks for more, so at most that many lanes apply at
 * once. A lane waiting for its turn keeps gathering entries, so under a backlog its next batch is larger
 * (fewer, larger transactions) instead of many lanes each committing a few events; at low load a turn is
 * free and nothing waits. A runner that is abandoned gives its turn back (its replacement waits for one
 * like any lane); a runner waiting for a turn notices a stop within {@link #TURN_RECHECK_MILLIS}.
 */
final class Lane {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);
    /** How long a key waits after its runner died on an unexpected error, before its head runs again. */
    static final long CRASH_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
    /**
     * How often a runner waiting for a turn checks that its lane still runs: a stop does not interrupt it
     * (an interrupt could break the database connection of a runner between two attempts).
     */
    static final long TURN_RECHECK_MILLIS = 100;

    /** Processes the head entry of a key on the calling runner. */
    interface Processor {
        Step process(Entry head, Runner runner);

        /** True when {@code head} may go in a batch with the heads of other keys. */
        default boolean batchable(Entry head) {
            return false;
        }

        /**
         * Processes entries as one unit: the front entries of several keys, a key's entries together and
         * in their order. Returns one step per entry when the unit went through; null when it did not and
         * nothing of it took effect (the runner then processes each key's head alone); a list holding only
         * {@link Step#ABANDONED} or {@link Step#STOPPED} when the runner must exit (its replacement, if
         * any, processes the keys' heads alone).
         */
        default List<Step> processBatch(List<Entry> heads, Runner runner) {
            return null;
        }

        /** What an entry weighs against the batch's byte limit. */
        default long weight(Entry head) {
            return 0;
        }
    }

    private final String name;
    private final Processor processor;
    private final int maxBatch;
    private final long maxBatchBytes;
    private final Turns turns; // null: no limit
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
        this(name, processor, 1, Long.MAX_VALUE, null);
    }

    Lane(String name, Processor processor, int maxBatch, long maxBatchBytes, Turns turns) {
        this.name = name;
        this.processor = processor;
        this.maxBatch = maxBatch;
        this.maxBatchBytes = maxBatchBytes;
        this.turns = turns;
    }

    void start() {
        Runner runner;
        lock.lock();
        try {
            runner = newRunner(List.of());
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
     * takes over the lane and first finishes the keys the abandoned runner was working on, one at a time.
     */
    void replace(Runner abandoned) {
        abandoned.giveBackTurn(); // the zombie may never return: its turn goes back (also when stopping)
        Runner fresh;
        lock.lock();
        try {
            if (stopping || current != abandoned) {
                return;
            }
            fresh = newRunner(abandoned.pending);
        } finally {
            lock.unlock();
        }
        fresh.thread.start();
    }

    /**
     * The runner died on an unexpected error while working on {@code keys} (empty when between keys): a
     * fresh runner takes over, and the keys wait {@link #CRASH_PAUSE_NANOS} before their heads run again.
     */
    private void takeOver(Runner dead, List<KeyQueue> keys) {
        Runner fresh;
        lock.lock();
        try {
            if (stopping || current != dead) {
                return;
            }
            for (KeyQueue kq : keys) {
                if (kq.state == KeyQueue.State.RUNNING) {
                    kq.state = KeyQueue.State.WAITING;
                    kq.dueNanos = System.nanoTime() + CRASH_PAUSE_NANOS;
                    delayed.add(kq);
                }
            }
            wake.signal();
            fresh = newRunner(List.of());
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

    private Runner newRunner(List<KeyQueue> initial) {
        generation++;
        String threadName = generation == 1 ? name : name + "-" + generation;
        current = new Runner(threadName, initial);
        return current;
    }

    /**
     * Blocks until a key may run; null when this runner must exit. Returns that key, followed by other
     * ready keys whose heads may share its batch (see the class comment), all marked running.
     */
    private List<KeyQueue> next(Runner runner) {
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
                if (!ready.isEmpty() && !runner.takeTurnNow()) {
                    // Wait for a turn without the lock: entries keep arriving and join the batch taken then.
                    lock.unlock();
                    try {
                        runner.awaitTurn(); // false: stopped or replaced, which the loop's first check sees
                    } catch (InterruptedException e) {
                        // A stop, or a stray timeout interrupt: re-check.
                    } finally {
                        lock.lock();
                    }
                    continue;
                }
                KeyQueue kq = ready.pollFirst();
                if (kq != null) {
                    kq.state = KeyQueue.State.RUNNING;
                    kq.taken = 1;
                    return maxBatch > 1 && (!ready.isEmpty() || kq.entries.size() > 1) ? batchFrom(kq) : List.of(kq);
                }
                runner.giveBackTurn(); // nothing to run (a turn taken before the ready keys went): not held while idle
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

    /**
     * Under the lock: {@code first}, then the ready keys that may join its batch, in their ready order,
     * each with the batchable entries at its front ({@link KeyQueue#taken}).
     */
    private List<KeyQueue> batchFrom(KeyQueue first) {
        Entry head = first.entries.peekFirst();
        if (!processor.batchable(head)) {
            return List.of(first);
        }
        List<KeyQueue> batch = new ArrayList<>();
        long[] budget = {maxBatch, maxBatchBytes};
        take(first, batch, budget, true);
        int scanned = 0;
        for (Iterator<KeyQueue> it = ready.iterator(); it.hasNext() && budget[0] > 0 && budget[1] > 0
                && scanned < 4 * maxBatch; scanned++) {
            KeyQueue kq = it.next();
            if (take(kq, batch, budget, false)) {
                it.remove();
                kq.state = KeyQueue.State.RUNNING;
            }
        }
        return batch.size() == 1 && first.taken == 1 ? List.of(first) : batch;
    }

    /**
     * Under the lock: adds {@code kq} to {@code batch} with as many of its front entries as are batchable
     * and fit {@code budget} (entries, bytes left); {@code always}: the key is in the batch already
     * running, with at least its head. False when not even its head fits.
     */
    private boolean take(KeyQueue kq, List<KeyQueue> batch, long[] budget, boolean always) {
        int n = 0;
        for (Entry e : kq.entries) {
            long w = processor.weight(e);
            boolean fits = budget[0] > 0 && (w <= budget[1] || (always && n == 0));
            if (!fits || !processor.batchable(e)) {
                break;
            }
            budget[0]--;
            budget[1] -= w;
            n++;
        }
        if (n == 0 && !always) {
            return false;
        }
        kq.taken = Math.max(1, n);
        batch.add(kq);
        return true;
    }

    /** The entries a batch took, key after key, each key's in order. */
    private List<Entry> entries(List<KeyQueue> batch) {
        lock.lock();
        try {
            List<Entry> entries = new ArrayList<>();
            for (KeyQueue kq : batch) {
                Iterator<Entry> it = kq.entries.iterator();
                for (int i = 0; i < kq.taken && it.hasNext(); i++) {
                    entries.add(it.next());
                }
            }
            return entries;
        } finally {
            lock.unlock();
        }
    }

    /** Completes each key of a batch that went through with the steps of its entries, in order. */
    private void completeBatch(List<KeyQueue> batch, List<Step> steps) {
        int i = 0;
        for (KeyQueue kq : batch) {
            int n = kq.taken;
            for (int j = 0; j < n; j++) {
                Step step = steps.get(i++);
                boolean last = j == n - 1 || step.kind != Step.Kind.DONE;
                if (last) {
                    complete(kq, step); // requeues the key (or its retry) behind what is left of it
                    i += n - 1 - j; // a non-DONE step leaves the key's later entries where they are
                    break;
                }
                popDone(kq); // done; the key stays running for its next entry
            }
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
            kq.taken = 1;
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

    /** A running key's head is done and more of its taken entries follow: removes it, the key stays running. */
    private void popDone(KeyQueue kq) {
        lock.lock();
        try {
            kq.entries.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    private static boolean exits(Step step) {
        return step.kind == Step.Kind.ABANDONED || step.kind == Step.Kind.STOPPED;
    }

    /** The thread of a lane. Replaced, never reused, when its handler is abandoned. */
    final class Runner implements Runnable {
        final Thread thread;
        private final List<KeyQueue> initial;
        /**
         * The keys this runner holds running and has not completed (read by {@link #replace} after an
         * abandonment, which can only happen while the runner is inside an attempt, after this was written).
         */
        volatile List<KeyQueue> pending = List.of();
        /** The attempt this runner is inside, if any (cancelled when the dispatcher stops). */
        volatile Attempt attempt;
        /** Whether this runner holds one of the {@link Turns}; given back exactly once (it or its replacer). */
        private final AtomicBoolean holdsTurn = new AtomicBoolean();

        private Runner(String threadName, List<KeyQueue> initial) {
            this.initial = initial;
            this.thread = new Thread(this, threadName);
            this.thread.setDaemon(true); // a zombie handler that never returns must not keep the JVM alive
        }

        Lane lane() {
            return Lane.this;
        }

        /** True when this runner may take entries now: no limit, a turn held, or one free. */
        private boolean takeTurnNow() {
            if (turns == null || holdsTurn.get()) {
                return true;
            }
            if (turns.tryTake()) {
                holdsTurn.set(true);
                return true;
            }
            return false;
        }

        /** Waits until a turn is free (true) or this runner must exit (false). */
        private boolean awaitTurn() throws InterruptedException {
            if (turns == null || holdsTurn.get()) {
                return true;
            }
            while (!turns.take(TURN_RECHECK_MILLIS)) {
                lock.lock();
                try {
                    if (stopping || current != this) {
                        return false;
                    }
                } finally {
                    lock.unlock();
                }
            }
            holdsTurn.set(true);
            return true;
        }

        void giveBackTurn() {
            if (turns != null && holdsTurn.compareAndSet(true, false)) {
                turns.giveBack();
            }
        }

        /** Keys taken over wait for a turn like any others; false when the lane stopped or moved on meanwhile. */
        private boolean turnForInitial() {
            while (!takeTurnNow()) {
                try {
                    if (!awaitTurn()) {
                        return false;
                    }
                } catch (InterruptedException e) {
                    lock.lock();
                    try {
                        if (stopping || current != this) {
                            return false;
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            }
            return true;
        }

        @Override
        public void run() {
            try {
                runLoop();
            } finally {
                giveBackTurn();
            }
        }

        private void runLoop() {
            List<KeyQueue> batch = initial;
            if (!batch.isEmpty() && !turnForInitial()) {
                return;
            }
            try {
                while (true) {
                    if (batch.isEmpty()) {
                        giveBackTurn(); // the lanes waiting for one go first; this lane's next batch grows meanwhile
                        batch = next(this);
                        if (batch == null) {
                            return;
                        }
                    }
                    pending = batch;
                    // Keys taken over from an abandoned or crashed runner go one at a time: a batch of them
                    // could hang on the same handler again and never reach its retry or dead letter.
                    boolean takenOver = batch == initial;
                    if ((batch.size() > 1 || batch.get(0).taken > 1) && !takenOver) {
                        List<Entry> entries = entries(batch);
                        List<Step> steps = processor.processBatch(entries, this);
                        if (steps != null && steps.size() == 1 && exits(steps.get(0))) {
                            return;
                        }
                        if (steps != null) {
                            completeBatch(batch, steps);
                            pending = List.of();
                            batch = List.of();
                            continue;
                        }
                    }
                    // Alone, in order: each key's entries the batch took (so a failing entry deep in a hot key's
                    // backlog reaches its own retries now, instead of failing batch after batch), a key stopping
                    // at its first entry that is not done; keys taken over run their head only.
                    for (int i = 0; i < batch.size(); i++) {
                        KeyQueue kq = batch.get(i);
                        pending = i == 0 ? batch : List.copyOf(batch.subList(i, batch.size()));
                        int n = takenOver ? 1 : Math.max(1, kq.taken);
                        for (int j = 0; j < n; j++) {
                            Step step = processor.process(head(kq), this);
                            if (exits(step)) {
                                return; // an abandoned runner's late return changes nothing
                            }
                            if (j < n - 1 && step.kind == Step.Kind.DONE) {
                                popDone(kq); // the key stays running for its next taken entry
                                continue;
                            }
                            complete(kq, step);
                            break;
                        }
                    }
                    pending = List.of();
                    batch = List.of();
                }
            } catch (Throwable e) {
                // Nothing may stop a lane: the keys' entries stay at their heads (unacknowledged) and are
                // tried again after a pause on a fresh runner, while the lane's other keys go on.
                List<KeyQueue> held = pending;
                log.error("lane {} hit an unexpected error on key(s) {}; a fresh runner takes over the lane and the"
                        + " keys' events are tried again in {} ms", thread.getName(),
                        held.stream().map(kq -> kq.key).toList(),
                        TimeUnit.NANOSECONDS.toMillis(CRASH_PAUSE_NANOS), e);
                giveBackTurn();
                takeOver(this, held);
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
