package io.eventsync.internal;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff, with or without full jitter: the one way eventsync spaces out retries
 * (handler attempts, dead-letter store writes, relay sends, leased loops, HTTP pulls) and idle polls.
 *
 * <p>After failure {@code n} (1-based; {@code n < 1} counts as 1) the <em>ceiling</em> is
 * {@code min(max, initial * multiplier^(n-1))}. Without jitter the delay is the ceiling; with full
 * jitter it is uniform in {@code [0, ceiling]}, so that many clients failing together do not retry
 * together (the "full jitter" of the AWS Architecture Blog's "Exponential Backoff and Jitter"). A
 * floor given per call (a server's Retry-After) raises the delay to at least the floor, even past
 * {@code max}: the server knows better than our cap.
 *
 * <p>Safe for any {@code n}: the power is taken in {@code double}, which grows to infinity instead of
 * wrapping like a shift, and narrowing it to {@code long} saturates, so a delay is never negative and
 * never above {@code max(floor, max)}; a failure that lasts (a broker down for a week) stays at
 * {@code max} however many times it is retried. Doubling is exact for initial delays below 2^53 ns
 * (104 days), since a power of two only moves the exponent.
 *
 * <p>Immutable and thread-safe; {@link #sequence()} gives the stateful form a retry loop owns.
 */
public final class Backoff {
    private final long initialNanos;
    private final long maxNanos;
    private final double multiplier;
    private final boolean jitter;
    private final Supplier<RandomGenerator> random;

    private Backoff(Builder b) {
        this.initialNanos = nanos(b.initial);
        this.maxNanos = nanos(b.max);
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
        this.random = b.random;
    }

    /** {@code initial}, doubling, capped at {@code max}, without jitter. */
    public static Backoff doubling(Duration initial, Duration max) {
        return builder(initial, max).build();
    }

    /** {@code initial}, doubling, capped at {@code max}, with full jitter. */
    public static Backoff doublingWithJitter(Duration initial, Duration max) {
        return builder(initial, max).fullJitter(true).build();
    }

    /** A backoff from {@code initial} capped at {@code max}; by default doubling and without jitter. */
    public static Builder builder(Duration initial, Duration max) {
        return new Builder(initial, max);
    }

    /** The ceiling after failure {@code failure}: {@code min(max, initial * multiplier^(failure-1))}. */
    public long ceilingNanos(int failure) {
        if (failure <= 1 || initialNanos == 0 || initialNanos >= maxNanos || multiplier == 1.0) {
            return Math.min(initialNanos, maxNanos);
        }
        double ceiling = initialNanos * Math.pow(multiplier, failure - 1);
        // Positive and never NaN here; narrowing saturates at Long.MAX_VALUE (JLS 5.1.3), infinity included.
        return Math.min(maxNanos, (long) ceiling);
    }

    /** The delay after failure {@code failure}: the ceiling, or with jitter uniform in {@code [0, ceiling]}. */
    public long delayNanos(int failure) {
        return delayNanos(failure, 0);
    }

    /** As {@link #delayNanos(int)}, but at least {@code floorNanos} (e.g. a server's Retry-After). */
    public long delayNanos(int failure, long floorNanos) {
        long ceiling = ceilingNanos(failure);
        return Math.max(floorNanos, jitter ? uniformUpTo(ceiling) : ceiling);
    }

    /** A new sequence of delays for consecutive failures, starting at failure 1. */
    public Sequence sequence() {
        return new Sequence(this);
    }

    private long uniformUpTo(long ceiling) {
        if (ceiling == 0) {
            return 0;
        }
        RandomGenerator r = random.get();
        // ceiling + 1 would overflow at Long.MAX_VALUE; there every non-negative long is in range.
        return ceiling == Long.MAX_VALUE ? r.nextLong() & Long.MAX_VALUE : r.nextLong(ceiling + 1);
    }

    /** Nanoseconds of {@code d}, saturating at {@code Long.MAX_VALUE} (292 years) instead of throwing. */
    private static long nanos(Duration d) {
        return d.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : d.toNanos();
    }

    @Override
    public String toString() {
        return "Backoff{initial=" + Duration.ofNanos(initialNanos) + ", max=" + Duration.ofNanos(maxNanos)
                + ", multiplier=" + multiplier + ", jitter=" + jitter + "}";
    }

    /**
     * The delays of one run of consecutive failures (or idle rounds): {@link #next()} counts one more and
     * returns its delay; {@link #reset()} after a success starts again at the initial delay. Owned by
     * one loop; not thread-safe.
     */
    public static final class Sequence {
        private final Backoff backoff;
        private int failures;

        private Sequence(Backoff backoff) {
            this.backoff = backoff;
        }

        /** Counts a failure and returns the delay to wait before the next try. */
        public Duration next() {
            return next(Duration.ZERO);
        }

        /** As {@link #next()}, but at least {@code floor} (e.g. a server's Retry-After). */
        public Duration next(Duration floor) {
            if (failures < Integer.MAX_VALUE) {
                failures++;
            }
            return Duration.ofNanos(backoff.delayNanos(failures, nanos(floor)));
        }

        /** After a success: the next delay is the initial one again. */
        public void reset() {
            failures = 0;
        }

        /** Failures counted since the last reset. */
        public int failures() {
            return failures;
        }
    }

    /** Settings of a {@link Backoff}; {@link #build()} checks them. */
    public static final class Builder {
        private final Duration initial;
        private final Duration max;
        private double multiplier = 2.0;
        private boolean jitter;
        private Supplier<RandomGenerator> random = ThreadLocalRandom::current;

        private Builder(Duration initial, Duration max) {
            this.initial = initial;
            this.max = max;
        }

        /** Growth per failure, finite and {@code >= 1}; default 2. */
        public Builder multiplier(double multiplier) {
            this.multiplier = multiplier;
            return this;
        }

        /** Whether each delay is drawn uniformly from {@code [0, ceiling]}; default off. */
        public Builder fullJitter(boolean jitter) {
            this.jitter = jitter;
            return this;
        }

        /**
         * The source of jitter; default {@link ThreadLocalRandom} of the calling thread. Tests pass a
         * seeded or rigged generator; a backoff shared between threads needs a thread-safe one.
         */
        public Builder random(RandomGenerator random) {
            if (random == null) {
                throw new IllegalArgumentException("backoff random must not be null");
            }
            this.random = () -> random;
            return this;
        }

        public Backoff build() {
            if (initial == null || initial.isNegative()) {
                throw new IllegalArgumentException("backoff initial must be >= 0, but was " + initial);
            }
            if (max == null || max.isNegative()) {
                throw new IllegalArgumentException("backoff max must be >= 0, but was " + max);
            }
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new IllegalArgumentException("backoff multiplier must be a finite number >= 1, but was " + multiplier);
            }
            return new Backoff(this);
        }
    }
}
