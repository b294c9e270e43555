package io.eventsync.handler;

/** What happens to later events of a key once one of its events is dead-lettered. */
public enum DeadLetterPolicy {
    /**
     * The default: later events of the key are held, in order, until the dead letter is replayed or
     * discarded, so a copy never silently skips a change.
     */
    PARK_KEY,
    /** Later events of the key flow on; the dead letter is kept for inspection and replay. */
    SKIP
}
