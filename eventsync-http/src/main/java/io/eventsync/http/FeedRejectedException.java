package io.eventsync.http;

import io.eventsync.PermanentException;

/**
 * The feed server refused a request for a reason retrying will not fix (4xx other than 429): a wrong
 * token, a position that does not belong to the feed, a bad parameter. The message carries the
 * server's reason. A feed that no longer retains the position asked for (410) is the subclass
 * {@link FeedGoneException}.
 */
public class FeedRejectedException extends PermanentException {
    private final int status;

    public FeedRejectedException(int status, String message) {
        super(message);
        this.status = status;
    }

    /** The HTTP status (400, 401, 404, 405, 406, 410). */
    public int status() {
        return status;
    }
}
