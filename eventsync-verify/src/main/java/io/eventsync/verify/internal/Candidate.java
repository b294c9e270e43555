package io.eventsync.verify.internal;

/**
 * A key whose rows differed when its range was read, before it is re-checked: the rows are the last
 * ones read (null where a side has no row).
 */
record Candidate(String keyText, Row source, Row copy, long foundNanos) {

    /** The key as read from the source if it has the row, else from the copy (either binds on both sides). */
    Object anyKey() {
        return source != null ? source.rawKey() : copy.rawKey();
    }

    Candidate reread(Row newSource, Row newCopy) {
        return new Candidate(keyText, newSource, newCopy, foundNanos);
    }
}
