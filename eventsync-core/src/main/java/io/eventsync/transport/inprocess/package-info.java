/**
 * {@link io.eventsync.transport.inprocess.InProcessTransport}: topics in memory, one JVM, fan-out and
 * queue modes, acknowledged positions per group and redelivery of what was not acknowledged. For
 * tests, the embedded demo and wiring services together in one process.
 */
package io.eventsync.transport.inprocess;
