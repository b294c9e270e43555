package io.eventsync.jdbc.internal;

import java.time.Duration;

/**
 * Adaptive interval: starts short, doubles while nothing happens, snaps back on activity. Used for
 * idle polling (where no signal exists) and for reconnecting after a failure. Not thread-safe:
 * owned by one loop.
 */
public final class Backoff {
    private final long minMillis;
    private final long maxMillis;
    private long current;

    public Backoff(Duration min, Duration max) {
        this.minMillis = Math.max(1, min.toMillis());
        this.maxMillis = Math.max(minMillis, max.toMillis());
        this.current = minMillis;
    }

    /** The interval to wait now; the following one will be twice as long, up to the maximum. */
    public long next() {
        long result = current;
        current = Math.min(maxMillis, current * 2);
        return result;
    }

    public void reset() {
        current = minMillis;
    }
}
