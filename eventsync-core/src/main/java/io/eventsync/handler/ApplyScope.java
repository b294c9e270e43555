package io.eventsync.handler;

/**
 * Wraps every handler invocation in a unit of work. The JDBC module's scope opens the copy's
 * transaction, inserts the inbox row (a duplicate returns {@link Outcome.Skipped} without calling the
 * handler), binds the connection, calls {@link Invocation#proceed()}, writes emitted follow-ups to its
 * own outbox and commits; on an exception or {@link Outcome.RetryAfter}/{@link Outcome.Reject} it rolls back.
 *
 * <p>The default scope just proceeds. A scope is shared by all lanes and must be thread-safe.
 */
@FunctionalInterface
public interface ApplyScope {

    ApplyScope DIRECT = Invocation::proceed;

    Outcome apply(Invocation invocation) throws Exception;

    /**
     * True when this scope itself refuses, inside its unit of work, to apply an event whose key is
     * parked in {@code deadLetters} (by throwing {@link KeyParkedException}), so the dispatcher need not
     * ask the store before each attempt. The JDBC scope does, when given the same JDBC store: the check
     * is then one query inside the copy's own transaction.
     */
    default boolean refusesParkedKeys(DeadLetterStore deadLetters) {
        return false;
    }
}
