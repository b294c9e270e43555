package io.eventsync.dispatch.internal;

/**
 * What the engine does with an event the next time its key's turn comes: one state per event, set
 * where the decision is made (intake, an attempt, a store failure, the watchdog), instead of flags
 * tested in order.
 */
final class Next {
    enum Kind {
        /** Run the handler (a first attempt, or a retry). */
        ATTEMPT,
        /** An unknown type that the subscription skips: done without a handler. */
        SKIP,
        /** Found bad before any handler ran (intake): dead-letter it at its turn, in key order. */
        DEAD_LETTER,
        /** A dead letter was decided but the store could not be written: write it before anything else. */
        STORE_DEAD_LETTER,
        /** Its runner was abandoned on it: the replacement counts the failure, then retries or dead-letters. */
        FAIL,
        /** A re-applied letter succeeded but could not be removed from the store yet: remove it. */
        REMOVE_LETTER,
        /** Finished: applied, skipped or dead-lettered; nothing more to do. */
        FINISHED,
        /** A re-applied letter failed again and was updated in place (its release stops there). */
        FAILED_AGAIN
    }

    static final Next ATTEMPT = new Next(Kind.ATTEMPT, null, null);
    static final Next SKIP = new Next(Kind.SKIP, null, null);
    static final Next REMOVE_LETTER = new Next(Kind.REMOVE_LETTER, null, null);
    static final Next FINISHED = new Next(Kind.FINISHED, null, null);
    static final Next FAILED_AGAIN = new Next(Kind.FAILED_AGAIN, null, null);

    final Kind kind;
    /** For DEAD_LETTER and STORE_DEAD_LETTER. */
    final DeadLetterReason reason;
    /** For DEAD_LETTER, STORE_DEAD_LETTER and FAIL. */
    final Throwable error;

    private Next(Kind kind, DeadLetterReason reason, Throwable error) {
        this.kind = kind;
        this.reason = reason;
        this.error = error;
    }

    static Next deadLetter(DeadLetterReason reason, Throwable error) {
        return new Next(Kind.DEAD_LETTER, reason, error);
    }

    static Next storeDeadLetter(DeadLetterReason reason, Throwable error) {
        return new Next(Kind.STORE_DEAD_LETTER, reason, error);
    }

    static Next fail(Throwable error) {
        return new Next(Kind.FAIL, null, error);
    }

    @Override
    public String toString() {
        return reason != null ? kind + "(" + reason.label + ")" : kind.name();
    }
}
