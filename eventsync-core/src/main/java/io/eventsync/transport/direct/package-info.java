/**
 * {@link io.eventsync.transport.direct.DirectPublisher}: a relay hands its events straight to a consumer in
 * the same process (WAL relay -> dispatcher, no broker or log table in between), and a send completes only
 * when the consumer acknowledged the event, so the relay's position passes only what the copy committed.
 */
package io.eventsync.transport.direct;
