-- eventsync schema for MariaDB (10.5+) and MySQL (8+). Placeholders: ${schema} (an existing
-- database) and ${prefix} (table prefix, default eventsync_). Both are plain identifiers
-- ([A-Za-z_][A-Za-z0-9_]*), so the file also works as a Flyway/Liquibase migration. Idempotent.
-- Indexes are declared inside CREATE TABLE because MySQL has no CREATE INDEX IF NOT EXISTS.
-- Times are UTC (DATETIME(6) filled with UTC_TIMESTAMP), independent of the session time zone.

-- Source side: events written in the business transaction, removed by the relay once published.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}outbox` (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    source VARCHAR(200) NOT NULL,
    event_id VARCHAR(64) NOT NULL,
    subject VARCHAR(500) NOT NULL,
    event_type VARCHAR(500) NOT NULL,
    event_sequence BIGINT NOT NULL,
    payload LONGBLOB NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    INDEX `${prefix}outbox_source_id` (source, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Source side: outbox rows the transport refuses for good (over its size limit, undecodable, rejected),
-- moved here by the relay in its fenced transaction, with the reason. id is the row's outbox id (its
-- position). While a key has a letter here its later rows wait in the outbox (the key is parked);
-- replay moves the row back under the same id (the front of its key), discard drops it.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}outbox_dead_letters` (
    id BIGINT NOT NULL PRIMARY KEY,
    source VARCHAR(200) NOT NULL,
    event_id VARCHAR(64) NOT NULL,
    event_key VARCHAR(500) NOT NULL,
    event_type VARCHAR(500) NOT NULL,
    event_sequence BIGINT NOT NULL,
    payload LONGBLOB NOT NULL,
    created_at DATETIME(6) NOT NULL,
    reason TEXT NOT NULL,
    attempts INT NOT NULL,
    first_failure DATETIME(6) NOT NULL,
    last_failure DATETIME(6) NOT NULL,
    INDEX `${prefix}outbox_dead_letters_key` (source, event_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Fenced leases: one relay per outbox, one reader per log group. epoch grows on every takeover.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}lease` (
    name VARCHAR(500) NOT NULL PRIMARY KEY,
    owner VARCHAR(200) NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Embedded log: gapless offsets per topic, assigned under the head row's lock.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}log` (
    topic VARCHAR(200) NOT NULL,
    log_offset BIGINT NOT NULL,
    event_key VARCHAR(500) NOT NULL,
    event_id VARCHAR(64) NOT NULL,
    payload LONGBLOB NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (topic, log_offset)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}log_head` (
    topic VARCHAR(200) NOT NULL PRIMARY KEY,
    next_offset BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- Positions consumer groups report back to the log's database, so retention knows what all have passed.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}log_group` (
    consumer_group VARCHAR(200) NOT NULL,
    topic VARCHAR(200) NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (consumer_group, topic)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consumer side: the offsets a consumer owns, in its own database.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}offsets` (
    consumer_group VARCHAR(200) NOT NULL,
    topic VARCHAR(200) NOT NULL,
    log_partition VARCHAR(200) NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (consumer_group, topic, log_partition)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consumer side: one row per applied event; the primary key makes a second apply impossible.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}inbox` (
    subscription VARCHAR(200) NOT NULL,
    event_id VARCHAR(64) NOT NULL,
    source VARCHAR(200) NOT NULL,
    source_position BIGINT NOT NULL,
    applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (subscription, event_id),
    INDEX `${prefix}inbox_source_position` (subscription, source, source_position),
    INDEX `${prefix}inbox_applied_at` (applied_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consumer side: events that could not be applied (FAILED) and those parked behind them (HELD).
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}dead_letters` (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    subscription VARCHAR(200) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    seq BIGINT NOT NULL AUTO_INCREMENT,
    event_id VARCHAR(64),
    event_key VARCHAR(500),
    event_type VARCHAR(500),
    payload LONGBLOB NOT NULL,
    reason TEXT NOT NULL,
    error_chain MEDIUMTEXT,
    attempts INT NOT NULL,
    parks_key SMALLINT NOT NULL,
    origin TEXT NOT NULL,
    first_failure DATETIME(6) NOT NULL,
    last_failure DATETIME(6) NOT NULL,
    UNIQUE KEY `${prefix}dead_letters_seq` (seq),
    UNIQUE KEY `${prefix}dead_letters_event` (subscription, event_id),
    INDEX `${prefix}dead_letters_key_seq` (subscription, event_key, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consumer side: how fresh each copy is per source, from the relay's heartbeats it applied
-- (Dispatcher.freshness, written about once a second): freshness = now - source_time.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}freshness` (
    subscription VARCHAR(200) NOT NULL,
    source VARCHAR(200) NOT NULL,
    source_time DATETIME(6) NOT NULL,
    applied_at DATETIME(6) NOT NULL,
    PRIMARY KEY (subscription, source)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Consumer side: the version at which a copy-table row was deleted (CopyTable), so an older event
-- arriving after the delete cannot bring the row back. deleted_at: when, so that retention
-- (CopyTable.purgeTombstones) can forget deletions past its window.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}copy_tombstones` (
    copy_table VARCHAR(128) NOT NULL,
    row_key VARCHAR(512) NOT NULL,
    version BIGINT NOT NULL,
    deleted_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    PRIMARY KEY (copy_table, row_key),
    INDEX `${prefix}copy_tombstones_deleted_at` (copy_table, deleted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- Binlog relay (MariaDB/MySQL): per source, the binlog position up to which every event was confirmed
-- by the transport (the end of a transaction); written only in the relay's fenced transaction.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}binlog_position` (
    source VARCHAR(200) NOT NULL PRIMARY KEY,
    binlog_file VARCHAR(512) NOT NULL,
    binlog_pos BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- Binlog relay freshness marks: the leader updates its row with the database clock (epoch microseconds);
-- the row event in the binlog tells the relay that every transaction committed before that time precedes it.
CREATE TABLE IF NOT EXISTS `${schema}`.`${prefix}binlog_mark` (
    source VARCHAR(200) NOT NULL PRIMARY KEY,
    marked_micros BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
