package io.eventsync.http;

import io.eventsync.EventsyncException;
import java.time.Duration;
import java.util.Optional;

/**
 * The feed server could not be reached or answered 429/5xx: transient, retry later (after
 * {@link #retryAfter()} when the server said so).
 */
public class FeedUnavailableException extends EventsyncException {
    private final int status;
    private final Duration retryAfter;

    public FeedUnavailableException(int status, String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.retryAfter = retryAfter;
    }

    /** The HTTP status, or 0 when no answer was received. */
    public int status() {
        return status;
    }

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
