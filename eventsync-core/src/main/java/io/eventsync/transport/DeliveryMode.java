package io.eventsync.transport;

/** How a topic's events are shared among the consumers of one group. */
public enum DeliveryMode {
    /** Event bus: every group gets every event; inside a group, consumers split partitions. */
    FANOUT,
    /** Message queue: competing consumers of the group share one queue; each event goes to one of them. */
    QUEUE
}
