/**
 * Machinery shared by the transport modules (meters, thread factories). Not public API: it may change
 * without notice; applications use {@link io.eventsync.transport} only.
 */
package io.eventsync.transport.internal;
