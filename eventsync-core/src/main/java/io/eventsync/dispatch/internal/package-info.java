/**
 * The machinery behind {@link io.eventsync.dispatch.Dispatcher}; nothing here is API.
 *
 * <p>Path of a delivery: {@code Intake} decodes it on the transport's thread and the {@code AckTracker}
 * registers it in arrival order; it waits in its key's queue on one {@code Lane}; the lane's runner
 * thread runs an {@code Attempt} inside the apply scope while the {@code Watchdog} enforces the
 * deadline (cancel, interrupt, then abandon and replace the runner); the outcome becomes done, a
 * retry after a backoff (the key waits, the lane does not), or a dead letter that parks the key
 * ({@code Parking}); {@code Releases} replays or discards letters in the key's order. A delivery is
 * acknowledged only when it and every earlier delivery of its partition are done.
 */
package io.eventsync.dispatch.internal;
