package io.eventsync.dispatch;

import io.eventsync.EventsyncException;

/**
 * Thrown by an {@link ApplyScope} that found, inside its unit of work, that the event's key is parked
 * (it has a dead letter that holds its later events back, possibly written by another instance of the
 * subscription). Nothing of the attempt is kept; the dispatcher stores the event as a HELD letter
 * behind the key's letters instead of applying it.
 */
public final class KeyParkedException extends EventsyncException {
    private final String key;

    public KeyParkedException(String subscription, String key) {
        super("key " + key + " of subscription " + subscription + " is parked behind a dead letter");
        this.key = key;
    }

    public String key() {
        return key;
    }
}
