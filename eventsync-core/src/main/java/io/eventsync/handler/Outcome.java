package io.eventsync.handler;

import java.time.Duration;
import java.util.Objects;

/** What a handler did with an event. A handler returns one; it never returns null. */
public sealed interface Outcome {

    /** The event changed state; follow-up events emitted during the call are published. */
    record Applied() implements Outcome {}

    /** The event needed no change (stale, duplicate, not relevant); counts as done. */
    record Skipped(String reason) implements Outcome {
        public Skipped {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Not now: try again after {@code delay} (bounded by the retry policy's attempts). */
    record RetryAfter(Duration delay, String reason) implements Outcome {
        public RetryAfter {
            Objects.requireNonNull(delay, "delay");
            Objects.requireNonNull(reason, "reason");
            if (delay.isNegative()) {
                throw new IllegalArgumentException("retry delay must not be negative: " + delay);
            }
        }
    }

    /** Never: the event goes to the dead letters with this reason. */
    record Reject(String reason) implements Outcome {
        public Reject {
            Objects.requireNonNull(reason, "reason");
        }
    }

    Applied APPLIED = new Applied();

    static Outcome applied() {
        return APPLIED;
    }

    static Outcome skipped(String reason) {
        return new Skipped(reason);
    }

    static Outcome retryAfter(Duration delay, String reason) {
        return new RetryAfter(delay, reason);
    }

    static Outcome reject(String reason) {
        return new Reject(reason);
    }
}
