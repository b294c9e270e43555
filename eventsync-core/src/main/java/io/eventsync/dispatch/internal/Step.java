package io.eventsync.dispatch.internal;

/** What a lane does with a key after processing the key's head entry once. */
final class Step {
    enum Kind {
        /** The head entry is finished; the key's next entry may run. */
        DONE,
        /** The head entry runs again after {@link #delayNanos}; other keys of the lane run meanwhile. */
        RETRY,
        /** The runner was abandoned; its replacement finishes the entry. The runner must exit. */
        ABANDONED,
        /** The dispatcher is stopping; the entry stays unfinished (never acknowledged). */
        STOPPED
    }

    static final Step DONE = new Step(Kind.DONE, 0);
    static final Step ABANDONED = new Step(Kind.ABANDONED, 0);
    static final Step STOPPED = new Step(Kind.STOPPED, 0);

    final Kind kind;
    final long delayNanos;

    private Step(Kind kind, long delayNanos) {
        this.kind = kind;
        this.delayNanos = delayNanos;
    }

    static Step retry(long delayNanos) {
        return new Step(Kind.RETRY, Math.max(0, delayNanos));
    }

    @Override
    public String toString() {
        return kind == Kind.RETRY ? "RETRY(" + delayNanos + "ns)" : kind.name();
    }
}
