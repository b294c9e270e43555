package io.eventsync.http.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential back-off with full jitter: the n-th wait is uniform in [0, min(max, initial * 2^n)]. */
public final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private int failures;

    public Backoff(Duration initial, Duration max) {
        this.initialNanos = initial.toNanos();
        this.maxNanos = max.toNanos();
    }

    /** The wait before the next attempt; at least {@code floor} (a server's Retry-After). */
    public Duration next(Duration floor) {
        long ceiling = Math.min(maxNanos, initialNanos << Math.min(failures++, 30));
        long jittered = ThreadLocalRandom.current().nextLong(ceiling + 1);
        return Duration.ofNanos(Math.max(jittered, floor.toNanos()));
    }

    public void reset() {
        failures = 0;
    }

    public int failures() {
        return failures;
    }
}
