package io.eventsync;

/**
 * Base of every exception eventsync throws. Unchecked and, unless it is a {@link PermanentException},
 * transient: the operation that failed may succeed when retried.
 */
public class EventsyncException extends RuntimeException {
    public EventsyncException(String message) {
        super(message);
    }

    public EventsyncException(String message, Throwable cause) {
        super(message, cause);
    }
}
