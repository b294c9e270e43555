package io.eventsync.handler;

import io.eventsync.ConfigException;
import java.time.Duration;
import java.util.Objects;

/**
 * How a handler is invoked: its timeout, the grace period after cancellation before it is abandoned,
 * the retry policy, and what a dead letter does to its key. Immutable; build with {@link #custom()}.
 */
public final class HandlerOptions {
    private final Duration timeout;
    private final Duration cancellationGrace;
    private final RetryPolicy retryPolicy;
    private final DeadLetterPolicy deadLetterPolicy;

    private HandlerOptions(Builder b) {
        this.timeout = b.timeout;
        this.cancellationGrace = b.cancellationGrace;
        this.retryPolicy = b.retryPolicy;
        this.deadLetterPolicy = b.deadLetterPolicy;
    }

    /** Timeout 30 s, grace 5 s, {@link RetryPolicy#defaults()}, {@link DeadLetterPolicy#PARK_KEY}. */
    public static HandlerOptions defaults() {
        return custom().build();
    }

    public static Builder custom() {
        return new Builder();
    }

    public Duration timeout() {
        return timeout;
    }

    public Duration cancellationGrace() {
        return cancellationGrace;
    }

    public RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    public DeadLetterPolicy deadLetterPolicy() {
        return deadLetterPolicy;
    }

    @Override
    public String toString() {
        return "HandlerOptions{timeout=" + timeout + ", cancellationGrace=" + cancellationGrace
                + ", retryPolicy=" + retryPolicy + ", deadLetterPolicy=" + deadLetterPolicy + "}";
    }

    public static final class Builder {
        private Duration timeout = Duration.ofSeconds(30);
        private Duration cancellationGrace = Duration.ofSeconds(5);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private DeadLetterPolicy deadLetterPolicy = DeadLetterPolicy.PARK_KEY;

        private Builder() {}

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder cancellationGrace(Duration cancellationGrace) {
            this.cancellationGrace = cancellationGrace;
            return this;
        }

        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = retryPolicy;
            return this;
        }

        public Builder deadLetterPolicy(DeadLetterPolicy deadLetterPolicy) {
            this.deadLetterPolicy = deadLetterPolicy;
            return this;
        }

        public HandlerOptions build() {
            if (timeout == null || timeout.isZero() || timeout.isNegative()) {
                throw new ConfigException("handler timeout must be > 0, but was " + timeout);
            }
            if (cancellationGrace == null || cancellationGrace.isNegative()) {
                throw new ConfigException("handler cancellationGrace must be >= 0, but was " + cancellationGrace);
            }
            Objects.requireNonNull(retryPolicy, "retryPolicy");
            Objects.requireNonNull(deadLetterPolicy, "deadLetterPolicy");
            return new HandlerOptions(this);
        }
    }
}
