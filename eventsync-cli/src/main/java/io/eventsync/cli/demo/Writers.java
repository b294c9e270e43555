package io.eventsync.cli.demo;

import com.google.protobuf.Message;
import io.eventsync.v1.Envelope;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workload generator: concurrent writers change orders at the source, at a rate or as fast as
 * they can, for a number of events or a duration, on keys chosen with a skew. Each key's status and
 * version live here, guarded by a striped lock held across the key's source transaction, so the
 * versions of one key are strictly increasing in commit order.
 */
final class Writers {
    private static final Logger log = LoggerFactory.getLogger(Writers.class);
    private static final int STRIPES = 1024;

    private final DemoSettings settings;
    private final OrdersSource source;
    private final KeyChooser chooser;
    private final String[] status;
    private final long[] version;
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    private final Runnable afterWrite;
    final AtomicLong written = new AtomicLong();
    final Set<String> invalidEventIds = ConcurrentHashMap.newKeySet();
    private final AtomicLong claimed = new AtomicLong();
    private final AtomicLong invalidKeys = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile long startNanos;
    private volatile long endNanos;

    Writers(DemoSettings settings, OrdersSource source, Runnable afterWrite) {
        this.settings = settings;
        this.source = source;
        this.afterWrite = afterWrite;
        this.chooser = new KeyChooser(settings.keys(), settings.skew());
        this.status = new String[settings.keys()];
        this.version = new long[settings.keys()];
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** Runs the writers to the end of the workload; rethrows the first failure of any writer. */
    void run() throws InterruptedException {
        startNanos = System.nanoTime();
        long deadline = settings.duration() == null ? Long.MAX_VALUE : startNanos + settings.duration().toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < settings.writers(); w++) {
            int writer = w;
            Thread t = new Thread(() -> write(writer, deadline), "eventsync-demo-writer-" + w);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        endNanos = System.nanoTime();
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("a writer failed: " + t, t);
        }
    }

    long elapsedNanos() {
        long end = endNanos == 0 ? System.nanoTime() : endNanos;
        return startNanos == 0 ? 0 : end - startNanos;
    }

    private void write(int writer, long deadline) {
        SplittableRandom random = new SplittableRandom(settings.seed() * 31 + writer);
        double perWriterRate = settings.rate() / settings.writers();
        long intervalNanos = perWriterRate > 0 ? (long) (1_000_000_000L / perWriterRate) : 0;
        long next = System.nanoTime();
        try {
            while (failure.get() == null && System.nanoTime() < deadline) {
                if (settings.duration() == null && claimed.incrementAndGet() > settings.count()) {
                    return;
                }
                if (intervalNanos > 0) {
                    next += intervalNanos;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                }
                writeOne(random);
                if (settings.faults().invalid() > 0 && random.nextDouble() < settings.faults().invalid()) {
                    writeInvalid(random);
                }
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
            log.error("writer {} failed", writer, t);
        }
    }

    private void writeOne(SplittableRandom random) throws Exception {
        int key = chooser.next(random);
        ReentrantLock lock = locks[key % STRIPES];
        lock.lock();
        try {
            String orderId = KeyChooser.key(key);
            Message change = Workload.next(orderId, status[key], random);
            long v = version[key] + 1;
            source.write(orderId, v, change);
            version[key] = v;
            status[key] = Workload.statusAfter(change);
        } finally {
            lock.unlock();
        }
        written.incrementAndGet();
        afterWrite.run();
    }

    private void writeInvalid(SplittableRandom random) throws Exception {
        // A key of its own: the event is rejected before any handler runs, so nothing else may change.
        String key = String.format("invalid-%06d", invalidKeys.incrementAndGet());
        Envelope e = source.writeEventOnly(key, 1, Workload.invalid(key, random));
        invalidEventIds.add(e.getId());
        afterWrite.run();
    }
}
