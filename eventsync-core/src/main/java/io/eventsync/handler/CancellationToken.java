package io.eventsync.handler;

/**
 * Fires when an invocation passes its deadline or the consumer shuts down. Long-running handlers
 * check it (or react to interruption) and stop early.
 */
public interface CancellationToken {

    boolean isCancelled();

    /** Throws {@link java.util.concurrent.CancellationException} if cancelled. */
    void throwIfCancelled();

    /** Runs {@code callback} once when the token fires (at once if it already has). */
    void onCancel(Runnable callback);
}
