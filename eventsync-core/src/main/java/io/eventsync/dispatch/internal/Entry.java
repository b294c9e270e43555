package io.eventsync.dispatch.internal;

/** Something a lane processes in its key's order: an event to apply, or a release of parked letters. */
abstract class Entry {
    final String key;

    Entry(String key) {
        this.key = key;
    }
}
