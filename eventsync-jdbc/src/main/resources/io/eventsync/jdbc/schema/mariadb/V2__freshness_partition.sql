-- eventsync schema V2 (mariadb): freshness per partition. Same placeholders as V1; idempotent. Runs after V1
-- (EventsyncSchema.install runs both; with Flyway or Liquibase, run it as the next migration).
--
-- Consumer side: how fresh each partition of a copy is per source, one row per (subscription, source,
-- partition), written about once a second by each consumer instance for the partitions it owns
-- (partition names are the transport's stable ones, the same on every instance). The copy's freshness
-- per source is the oldest source_time over its partitions, so a stale instance cannot hide behind a
-- fresh one, as it could in ${prefix}freshness (one row per subscription and source, kept for installs
-- whose consumers still write it). applied_at NULL: the partition delivered something but no heartbeat
-- was applied on it yet, and source_time is when the consumer first saw it. lag_events: events not yet
-- acknowledged on the partition as the consumer last measured it, NULL when the transport cannot tell.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}freshness_partition` (
    subscription VARCHAR(200) NOT NULL,
    source VARCHAR(200) NOT NULL,
    partition_name VARCHAR(255) NOT NULL,
    source_time DATETIME(6) NOT NULL,
    applied_at DATETIME(6),
    lag_events BIGINT,
    recorded_at DATETIME(6) NOT NULL,
    PRIMARY KEY (subscription, source, partition_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
