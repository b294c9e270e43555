package io.eventsync.http.internal;

/** A request the server refuses: the status and the reason sent to the client in the body. */
public final class HttpProblem extends RuntimeException {
    private final int status;
    private final long retryAfterSeconds;

    public HttpProblem(int status, String reason) {
        this(status, reason, -1);
    }

    public HttpProblem(int status, String reason, long retryAfterSeconds) {
        super(reason, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    /** Seconds for a Retry-After header, or -1 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
