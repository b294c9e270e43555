/**
 * Running handlers for a subscription: {@link io.eventsync.dispatch.Dispatcher} (per-key lanes,
 * timeouts, retries, dead letters that park a key, in-order acknowledgements, batches), the
 * {@link io.eventsync.dispatch.ApplyScope} each handling runs in (the JDBC module's makes it one copy
 * transaction) and the {@link io.eventsync.dispatch.Invocation} it sees, the dead-letter types
 * ({@link io.eventsync.dispatch.DeadLetter}, {@link io.eventsync.dispatch.DeadLetterStore},
 * {@link io.eventsync.dispatch.InMemoryDeadLetters}) and each copy's freshness. What a handler author
 * writes against is in {@link io.eventsync.handler}.
 */
package io.eventsync.dispatch;
