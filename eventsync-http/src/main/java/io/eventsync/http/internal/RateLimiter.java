package io.eventsync.http.internal;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client: {@code ratePerSecond} requests per second on average, bursts up to
 * {@code burst}. A refused request learns how long until a token is available (for Retry-After).
 */
public final class RateLimiter {
    private final double ratePerNano;
    private final double burst;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public RateLimiter(double ratePerSecond, int burst, LongSupplier nanoClock) {
        this.ratePerNano = ratePerSecond / 1e9;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    /** Takes a token for {@code client}; returns 0 when granted, else the nanoseconds until one is free. */
    public long acquire(String client) {
        return buckets.computeIfAbsent(client, c -> new Bucket(burst, nanoClock.getAsLong())).take(this);
    }

    private static final class Bucket {
        private double tokens;
        private long refilledAt;

        Bucket(double tokens, long now) {
            this.tokens = tokens;
            this.refilledAt = now;
        }

        synchronized long take(RateLimiter limiter) {
            long now = limiter.nanoClock.getAsLong();
            tokens = Math.min(limiter.burst, tokens + (now - refilledAt) * limiter.ratePerNano);
            refilledAt = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return (long) Math.ceil((1 - tokens) / limiter.ratePerNano);
        }
    }
}
