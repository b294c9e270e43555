package io.eventsync.jdbc.internal;

import io.eventsync.internal.Backoff;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys the relay must not send now, so that it reads past them: keys whose last send failed wait
 * out a capped exponential backoff (doubling from {@code min} to {@code max}), and keys with a send
 * still in flight wait for its outcome. Their rows stay in the outbox, in order; every other key
 * keeps moving. Owned by the relay thread; not thread-safe.
 */
public final class RelayKeys {
    /**
     * How many blocked keys the batch query leaves out itself; rows of further blocked keys are read
     * and passed over in Java. Powers of two up to this, so the database sees few distinct statements.
     */
    static final int MAX_EXCLUDED_IN_SQL = 256;

    private final Backoff backoff;
    private final Map<String, Failing> failing = new HashMap<>();
    private volatile int failingCount;

    /** A key whose sends fail: how often, since when, when it may be tried again, and why. */
    public record Failing(int attempts, long firstFailureNanos, long retryAtNanos, String lastError) {}

    public RelayKeys(Duration min, Duration max) {
        this.backoff = Backoff.doubling(min, max);
    }

    /** Records a failed send of {@code key}; it is tried again after its backoff. */
    public void failed(String key, String error, long nowNanos) {
        Failing previous = failing.get(key);
        int attempts = previous == null ? 1 : previous.attempts() + 1;
        long first = previous == null ? nowNanos : previous.firstFailureNanos();
        failing.put(key, new Failing(attempts, first, nowNanos + backoff.delayNanos(attempts), error));
        failingCount = failing.size();
    }

    /** The key was sent (or parked behind a dead letter): its backoff is over. */
    public void clear(String key) {
        if (failing.remove(key) != null) {
            failingCount = failing.size();
        }
    }

    public void clearAll() {
        failing.clear();
        failingCount = 0;
    }

    /** The key's failures so far, or null when its last send went through. */
    public Failing failure(String key) {
        return failing.get(key);
    }

    /** Keys that failed and are not yet sent; read by metrics from any thread. */
    public int failingCount() {
        return failingCount;
    }

    /** True while the key waits out its backoff. */
    public boolean waiting(String key, long nowNanos) {
        Failing f = failing.get(key);
        return f != null && f.retryAtNanos() - nowNanos > 0;
    }

    /**
     * The keys the next read leaves out: waiting ones and {@code inFlight}, at most
     * {@link #MAX_EXCLUDED_IN_SQL}, padded (by repeating one) to a power of two.
     */
    public List<String> excluded(Set<String> inFlight, long nowNanos) {
        if (failing.isEmpty() && inFlight.isEmpty()) {
            return List.of();
        }
        List<String> keys = new ArrayList<>(inFlight.size() + failing.size());
        for (String key : inFlight) {
            if (keys.size() == MAX_EXCLUDED_IN_SQL) {
                break;
            }
            keys.add(key);
        }
        for (Map.Entry<String, Failing> e : failing.entrySet()) {
            if (keys.size() == MAX_EXCLUDED_IN_SQL) {
                break;
            }
            if (e.getValue().retryAtNanos() - nowNanos > 0 && !inFlight.contains(e.getKey())) {
                keys.add(e.getKey());
            }
        }
        if (keys.isEmpty()) {
            return List.of();
        }
        int padded = Integer.highestOneBit(keys.size());
        if (padded < keys.size()) {
            padded <<= 1;
        }
        keys.addAll(Collections.nCopies(padded - keys.size(), keys.get(0)));
        return keys;
    }

    /** Nanoseconds until the first waiting key may be tried again; {@code Long.MAX_VALUE} when none waits. */
    public long nanosUntilNextRetry(long nowNanos) {
        long next = Long.MAX_VALUE;
        for (Failing f : failing.values()) {
            long left = f.retryAtNanos() - nowNanos;
            if (left > 0) {
                next = Math.min(next, left);
            }
        }
        return next;
    }

    /**
     * After a read that saw every row it did not leave out: a key that is due again but had no row in
     * it has none left in the outbox (another leader sent them, or they were deleted), so it is
     * forgotten instead of being counted as failing forever.
     */
    public void forgetDueKeysWithout(Set<String> keysRead, long nowNanos) {
        boolean removed = failing.entrySet().removeIf(e -> e.getValue().retryAtNanos() - nowNanos <= 0
                && !keysRead.contains(e.getKey()));
        if (removed) {
            failingCount = failing.size();
        }
    }

    /** The oldest failure, for the relay's health: a key, its failure count and the last error. */
    public String describe(long nowNanos) {
        Map.Entry<String, Failing> oldest = null;
        for (Map.Entry<String, Failing> e : failing.entrySet()) {
            if (oldest == null || e.getValue().firstFailureNanos() - oldest.getValue().firstFailureNanos() < 0) {
                oldest = e;
            }
        }
        if (oldest == null) {
            return "";
        }
        Failing f = oldest.getValue();
        return failing.size() + " key(s) wait for the transport to take their events; the longest waiting, key "
                + oldest.getKey() + ", failed " + f.attempts() + " time(s) in " + Duration.ofNanos(nowNanos - f.firstFailureNanos()).toMillis()
                + " ms (next try in " + Math.max(0, (f.retryAtNanos() - nowNanos) / 1_000_000) + " ms): " + f.lastError();
    }
}
