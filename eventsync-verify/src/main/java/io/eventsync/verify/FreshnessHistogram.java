package io.eventsync.verify;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Freshness (source commit to copy commit) recorded with bounded memory: log-linear buckets of
 * microseconds with at most ~1.6% relative error, the exact maximum, and lock-free recording so
 * many apply threads can record at once.
 *
 * <p>Values below 128 µs have their own bucket; above, every power of two is split in 64 buckets.
 */
public final class FreshnessHistogram {
    private static final int LINEAR = 128;
    private static final int SUB_BUCKETS = 64;
    private static final int MAX_EXPONENT = 40; // 2^46 µs, about two years
    private final AtomicLongArray counts = new AtomicLongArray(LINEAR + MAX_EXPONENT * SUB_BUCKETS);
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong maxMicros = new AtomicLong();
    private final AtomicLong sumMicros = new AtomicLong();

    public void record(Duration freshness) {
        recordNanos(freshness.toNanos());
    }

    /** Records one value in nanoseconds; negative values (clock steps) count as zero. */
    public void recordNanos(long nanos) {
        long micros = Math.max(0, nanos / 1_000);
        counts.incrementAndGet(index(micros));
        count.incrementAndGet();
        sumMicros.addAndGet(micros);
        maxMicros.accumulateAndGet(micros, Math::max);
    }

    public long count() {
        return count.get();
    }

    /** The value at percentile {@code p} (0 < p <= 100), at the upper bound of its bucket, never above the max. */
    public Duration percentile(double p) {
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], but was " + p);
        }
        long total = count.get();
        if (total == 0) {
            return Duration.ZERO;
        }
        long rank = (long) Math.ceil(total * p / 100.0);
        long seen = 0;
        for (int i = 0; i < counts.length(); i++) {
            seen += counts.get(i);
            if (seen >= rank) {
                return Duration.ofNanos(Math.min(upperBound(i), maxMicros.get()) * 1_000);
            }
        }
        return max();
    }

    public Duration max() {
        return Duration.ofNanos(maxMicros.get() * 1_000);
    }

    public Duration mean() {
        long total = count.get();
        return total == 0 ? Duration.ZERO : Duration.ofNanos(sumMicros.get() / total * 1_000);
    }

    /** p50, p95, p99 and max at this moment. */
    public Snapshot snapshot() {
        return new Snapshot(count(), percentile(50), percentile(95), percentile(99), max());
    }

    /** Freshness percentiles at one moment. */
    public record Snapshot(long count, Duration p50, Duration p95, Duration p99, Duration max) {}

    static int index(long micros) {
        if (micros < LINEAR) {
            return (int) micros;
        }
        int exponent = 63 - Long.numberOfLeadingZeros(micros) - 6; // micros >> exponent is in [64, 128)
        if (exponent > MAX_EXPONENT) {
            return LINEAR + MAX_EXPONENT * SUB_BUCKETS - 1;
        }
        return LINEAR + (exponent - 1) * SUB_BUCKETS + (int) ((micros >> exponent) - SUB_BUCKETS);
    }

    static long upperBound(int index) {
        if (index < LINEAR) {
            return index;
        }
        int exponent = (index - LINEAR) / SUB_BUCKETS + 1;
        long sub = (index - LINEAR) % SUB_BUCKETS + SUB_BUCKETS;
        return ((sub + 1) << exponent) - 1;
    }
}
