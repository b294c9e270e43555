package io.eventsync.dispatch.internal;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * How many lanes of one dispatcher may apply at the same time (see {@link Lane}): a fair semaphore, so
 * the lanes that wait get their turns in the order they asked. Under a backlog the lanes that wait gather
 * more entries, so the database sees fewer, larger transactions.
 */
final class Turns {
    private final Semaphore turns;
    private final int count;

    Turns(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("turns must be >= 1, but was " + count);
        }
        this.count = count;
        this.turns = new Semaphore(count, true);
    }

    int count() {
        return count;
    }

    /** A free turn, unless other lanes wait for one (they go first: not the barging {@code tryAcquire()}). */
    boolean tryTake() {
        try {
            return turns.tryAcquire(0, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits at most {@code millis} for a turn (in the order asked); false when none came. */
    boolean take(long millis) throws InterruptedException {
        return turns.tryAcquire(millis, TimeUnit.MILLISECONDS);
    }

    void giveBack() {
        turns.release();
    }
}
