package io.eventsync.handler;

import io.eventsync.ConfigException;
import io.eventsync.internal.Backoff;
import java.time.Duration;

/**
 * Exponential backoff with full jitter for transient failures: the delay before attempt {@code n+1}
 * is uniform in {@code [0, min(maxBackoff, initialBackoff * multiplier^(n-1))]}. After
 * {@code maxAttempts} attempts the event goes to the dead letters.
 */
public final class RetryPolicy {
    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final double multiplier;
    private final boolean jitter;
    /** The computation, shared with every other retry in eventsync. */
    private final Backoff backoff;

    private RetryPolicy(Builder b) {
        this.maxAttempts = b.maxAttempts;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.multiplier = b.multiplier;
        this.jitter = b.jitter;
        this.backoff = Backoff.builder(initialBackoff, maxBackoff).multiplier(multiplier).fullJitter(jitter).build();
    }

    /** 10 attempts, 50 ms initial, 30 s max, multiplier 2, full jitter. */
    public static RetryPolicy defaults() {
        return custom().build();
    }

    public static Builder custom() {
        return new Builder();
    }

    public int maxAttempts() {
        return maxAttempts;
    }

    public Duration initialBackoff() {
        return initialBackoff;
    }

    public Duration maxBackoff() {
        return maxBackoff;
    }

    public double multiplier() {
        return multiplier;
    }

    public boolean jitter() {
        return jitter;
    }

    /** The ceiling of the backoff after failed attempt {@code attempt} (1-based), before jitter. */
    public Duration ceiling(int attempt) {
        return Duration.ofNanos(backoff.ceilingNanos(attempt));
    }

    /** The delay to wait after failed attempt {@code attempt} (1-based). */
    public Duration backoff(int attempt) {
        return Duration.ofNanos(backoff.delayNanos(attempt));
    }

    @Override
    public String toString() {
        return "RetryPolicy{maxAttempts=" + maxAttempts + ", initialBackoff=" + initialBackoff
                + ", maxBackoff=" + maxBackoff + ", multiplier=" + multiplier + ", jitter=" + jitter + "}";
    }

    public static final class Builder {
        private int maxAttempts = 10;
        private Duration initialBackoff = Duration.ofMillis(50);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private double multiplier = 2.0;
        private boolean jitter = true;

        private Builder() {}

        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
            return this;
        }

        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
            return this;
        }

        public Builder multiplier(double multiplier) {
            this.multiplier = multiplier;
            return this;
        }

        public Builder jitter(boolean jitter) {
            this.jitter = jitter;
            return this;
        }

        public RetryPolicy build() {
            if (maxAttempts < 1) {
                throw new ConfigException("retry maxAttempts must be >= 1, but was " + maxAttempts);
            }
            if (initialBackoff == null || initialBackoff.isNegative()) {
                throw new ConfigException("retry initialBackoff must be >= 0, but was " + initialBackoff);
            }
            if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new ConfigException("retry maxBackoff must be >= initialBackoff (" + initialBackoff
                        + "), but was " + maxBackoff);
            }
            if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
                throw new ConfigException("retry multiplier must be a finite number >= 1, but was " + multiplier);
            }
            return new RetryPolicy(this);
        }
    }
}
