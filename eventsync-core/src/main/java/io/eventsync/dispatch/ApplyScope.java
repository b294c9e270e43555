package io.eventsync.dispatch;

import io.eventsync.handler.Outcome;
import java.util.List;

/**
 * Wraps every handler invocation in a unit of work. The JDBC module's scope opens the copy's
 * transaction, inserts the inbox row (a duplicate returns {@link Outcome.Skipped} without calling the
 * handler), binds the connection, calls {@link Invocation#proceed()}, writes emitted follow-ups to its
 * own outbox and commits; on an exception or {@link Outcome.RetryAfter}/{@link Outcome.Reject} it rolls back.
 *
 * <p>The default scope just proceeds. A scope is shared by all lanes and must be thread-safe.
 *
 * <p>A scope may also apply a batch in one unit of work ({@link #batches()}, {@link #applyAll}): the
 * dispatcher then hands it the events that are waiting at the same moment on one lane: of several keys,
 * each key's events together and in their order.
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

    /** True when this scope implements {@link #applyAll}. */
    default boolean batches() {
        return false;
    }

    /**
     * Applies the invocations in the order given (a key's invocations are consecutive and in the key's
     * order, so a later one sees the earlier one's writes) in one unit of work, all or nothing.
     * Returns one outcome per invocation, each {@link Outcome.Applied} or {@link Outcome.Skipped}, once
     * all of them are durable together. When anything goes wrong — a handler throws or returns
     * {@link Outcome.RetryAfter} or {@link Outcome.Reject}, a key is parked, an invocation is abandoned,
     * the commit fails — nothing of the batch may remain and the method throws; the dispatcher then
     * applies each event alone through {@link #apply}, where each gets its own retries, dead letter and
     * parking, and the batch attempt is not counted against any of them. A handler may therefore run twice
     * for one delivery (as after any redelivery): its effects outside the unit of work must be idempotent.
     */
    default List<Outcome> applyAll(List<? extends Invocation> invocations) throws Exception {
        throw new UnsupportedOperationException(getClass().getName() + " does not apply batches");
    }
}
