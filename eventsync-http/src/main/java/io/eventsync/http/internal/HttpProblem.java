package io.eventsync.http.internal;

/** A request the server refuses: the status and the reason sent to the client in the body. */
public final class HttpProblem extends RuntimeException {
    private final int status;
    private final long retryAfterSeconds;
    private final long oldest;

    public HttpProblem(int status, String reason) {
        this(status, reason, -1);
    }

    public HttpProblem(int status, String reason, long retryAfterSeconds) {
        this(status, reason, retryAfterSeconds, 0);
    }

    private HttpProblem(int status, String reason, long retryAfterSeconds, long oldest) {
        super(reason, null, false, false);
        this.status = status;
        this.retryAfterSeconds = retryAfterSeconds;
        this.oldest = oldest;
    }

    /** 410: the position asked for is below {@code oldest}, the oldest offset the feed retains. */
    public static HttpProblem gone(String reason, long oldest) {
        return new HttpProblem(410, reason, -1, oldest);
    }

    /** The oldest retained offset of a 410, sent so that a client can report it; 0 otherwise. */
    public long oldest() {
        return oldest;
    }

    public int status() {
        return status;
    }

    /** Seconds for a Retry-After header, or -1 for none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
