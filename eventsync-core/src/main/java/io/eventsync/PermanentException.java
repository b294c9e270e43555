package io.eventsync;

/**
 * A failure that retrying cannot fix. Thrown by a handler (or a subclass of it), the event goes to
 * the dead letters at once instead of being retried.
 */
public class PermanentException extends EventsyncException {
    public PermanentException(String message) {
        super(message);
    }

    public PermanentException(String message, Throwable cause) {
        super(message, cause);
    }
}
