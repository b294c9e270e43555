package io.eventsync.verify.internal;

/**
 * The keys {@code k} with {@code lo < k <= hi}, in each database's order of the key; a null bound is
 * open (so {@code (null, null)} is every key).
 */
record Range(Object lo, Object hi) {
    static final Range ALL = new Range(null, null);

    @Override
    public String toString() {
        return "(" + (lo == null ? "-inf" : lo) + ", " + (hi == null ? "+inf" : hi) + "]";
    }
}
