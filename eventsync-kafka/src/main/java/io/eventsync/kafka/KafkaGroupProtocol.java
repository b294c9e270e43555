package io.eventsync.kafka;

/**
 * The consumer group protocol a {@link KafkaTransport}'s subscriptions use.
 *
 * <p>With the classic protocol a rebalance is a group-wide barrier: every member must rejoin, and a
 * member that died without leaving counts as alive until its session times out, or, while a rebalance
 * waits for it, until {@code max.poll.interval.ms}. Under churn (members killed every few seconds) the
 * group can stop consuming for minutes. The consumer protocol (KIP-848, Kafka 4) lets the broker assign
 * partitions member by member: a member that joins or dies moves only the partitions concerned, and the
 * others keep consuming throughout.
 */
public enum KafkaGroupProtocol {
    /**
     * The consumer protocol when the cluster supports it, else the classic one (the default). A
     * subscription tries the consumer protocol first; when the broker refuses it (a cluster before 4.0,
     * or one with {@code group.coordinator.rebalance.protocols} lacking {@code consumer}) it falls back
     * to the classic protocol, and the transport's later subscriptions start with the classic one.
     */
    AUTO,
    /** Always the consumer protocol (KIP-848); a cluster that does not support it stops the subscription. */
    CONSUMER,
    /**
     * Always the classic protocol, with the cooperative sticky assignor, a 10 s session timeout and a 3 s
     * heartbeat unless {@code session.timeout.ms} / {@code heartbeat.interval.ms} are set as client
     * properties (which only this protocol accepts).
     */
    CLASSIC
}
