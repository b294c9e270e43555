package io.eventsync.dispatch.internal;

import java.util.ArrayDeque;

/** The entries of one key waiting in a lane, oldest first. Guarded by its lane's lock. */
final class KeyQueue {
    enum State { READY, RUNNING, WAITING }

    final String key;
    final ArrayDeque<Entry> entries = new ArrayDeque<>();
    State state = State.READY;
    /** When a WAITING key may run again ({@link System#nanoTime()}). */
    long dueNanos;
    /** How many entries from the front a batch took while RUNNING (1 outside a batch). */
    int taken = 1;

    KeyQueue(String key) {
        this.key = key;
    }
}
