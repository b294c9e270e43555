/**
 * Machinery every module shares (today: {@link io.eventsync.internal.Backoff}). Not public API: it
 * may change without notice, and no public signature names a type from here.
 */
package io.eventsync.internal;
