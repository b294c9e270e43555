package io.eventsync.verify;

import java.util.Objects;

/**
 * What a repair did, or would do, to one differing key of the copy.
 *
 * @param key     the key, as text
 * @param kind    the difference it repairs
 * @param action  what makes the copy equal to the source
 * @param outcome whether it was done
 * @param detail  what was (or would be) done with the versions involved, e.g. {@code updated to version 7}
 *                or {@code kept: the copy holds version 9, newer than the source's 7}
 */
public record KeyRepair(String key, KeyDifference.Kind kind, Action action, Outcome outcome, String detail) {

    public enum Action {
        /** Write the source's row into the copy. */
        UPSERT,
        /** Delete the copy's row (the source has none). */
        DELETE
    }

    public enum Outcome {
        /** Written. */
        CHANGED,
        /** A dry run: it would be written. */
        WOULD_CHANGE,
        /** Left alone: the copy holds the key (or its deletion) at a newer version than the repair. */
        KEPT
    }

    public KeyRepair {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(outcome, "outcome");
    }

    @Override
    public String toString() {
        return key + ": " + (outcome == Outcome.WOULD_CHANGE ? "would be " + detail : detail);
    }
}
