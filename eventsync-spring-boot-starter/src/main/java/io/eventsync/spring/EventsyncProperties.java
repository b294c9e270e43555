package io.eventsync.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings under {@code eventsync.*}; every one has a default, so a Boot app with a DataSource just works. */
@ConfigurationProperties("eventsync")
public class EventsyncProperties {

    /** Turns the whole auto-configuration off. */
    private boolean enabled = true;

    /** This service's source name: its outbox and the topic its relay publishes to. Defaults to spring.application.name. */
    private String source;

    /** Schema of eventsync's tables; empty for the connection's current schema. */
    private String schema;

    /** Prefix of eventsync's tables. */
    private String tablePrefix = "eventsync_";

    /** Create eventsync's tables at startup if they do not exist (idempotent DDL). */
    private boolean installSchema = true;

    /** Health turns DOWN when a copy's freshness (from the relay's heartbeats) passes this, or a partition with a backlog makes no progress for this long. */
    private Duration maxFreshness = Duration.ofSeconds(30);

    private final Relay relay = new Relay();

    public Duration getMaxFreshness() { return maxFreshness; }
    public void setMaxFreshness(Duration maxFreshness) { this.maxFreshness = maxFreshness; }

    /**
     * Subscriptions (consumer groups) by name, each with topic, lanes, mode, create-tables and
     * copy-tables[i] (type, table, schema, key.column, key.field or key.from-subject, version-column,
     * columns); handlers are bound to one with @EventsyncHandler.
     */
    private final Map<String, Subscription> subscriptions = new LinkedHashMap<>();

    public static class Relay {
        /** Run the relay that publishes this service's committed outbox rows. */
        private boolean enabled = true;

        /** Topic to publish to; defaults to the source name. */
        private String topic;

        /** Lease duration: how long a dead relay keeps the outbox before a standby takes over. */
        private Duration leaseDuration = Duration.ofSeconds(10);

        public boolean isEnabled() { return enabled; }
        public void setEnabled(boolean enabled) { this.enabled = enabled; }
        public String getTopic() { return topic; }
        public void setTopic(String topic) { this.topic = topic; }
        public Duration getLeaseDuration() { return leaseDuration; }
        public void setLeaseDuration(Duration leaseDuration) { this.leaseDuration = leaseDuration; }
    }

    public static class Subscription {
        /** Topic the subscription reads (another service's source name). */
        private String topic;

        /** Parallel lanes across keys; per-key order always holds. */
        private int lanes = 8;

        /**
         * At most this many lanes apply at the same time (0: the dispatcher's default, twice the number of
         * processors); waiting lanes gather larger batches under a backlog.
         */
        private int applyConcurrency = 0;

        /** At most this many events of distinct keys, ready at once, applied in one copy transaction (1: one each). */
        private int maxBatch = 256;

        /** {@code fanout}: every instance of this service gets every event once per group; {@code queue}: instances share. */
        private String mode = "fanout";

        /** Create the declared copy tables (and the tombstones table beside them) at startup if they do not exist. */
        private boolean createTables = false;

        /**
         * Copy tables this subscription keeps without Java code, one per payload type (like the mappings
         * of an {@code eventsync run} pipeline file); {@code @EventsyncHandler} methods handle the other types.
         */
        private final List<CopyTable> copyTables = new ArrayList<>();

        public String getTopic() { return topic; }
        public void setTopic(String topic) { this.topic = topic; }
        public int getLanes() { return lanes; }
        public void setLanes(int lanes) { this.lanes = lanes; }
        public int getApplyConcurrency() { return applyConcurrency; }
        public void setApplyConcurrency(int applyConcurrency) { this.applyConcurrency = applyConcurrency; }
        public int getMaxBatch() { return maxBatch; }
        public void setMaxBatch(int maxBatch) { this.maxBatch = maxBatch; }
        public String getMode() { return mode; }
        public void setMode(String mode) { this.mode = mode; }
        public boolean isCreateTables() { return createTables; }
        public void setCreateTables(boolean createTables) { this.createTables = createTables; }
        public List<CopyTable> getCopyTables() { return copyTables; }
    }

    /** One copy table: rows of {@code table} follow the events of one payload type, under a version guard. */
    public static class CopyTable {
        /** The payload's generated protobuf Java class, e.g. {@code com.acme.orders.v1.OrderPlaced}. */
        private String type;

        /** The copy table. */
        private String table;

        /** Schema of the copy table and its tombstones table; empty for the connection's current schema. */
        private String schema;

        /** The key column: filled from a payload field ({@code key.field}) or the event's subject ({@code key.from-subject}). */
        private final Key key = new Key();

        /** The column holding the event sequence of each row: a row changes only for a newer event. */
        private String versionColumn = "version";

        /**
         * The copied columns, each {@code column=field.path} or just {@code field} for a column named like
         * the field ({@code a.b.c} for nested fields); nothing else of the payload is stored.
         */
        private List<String> columns = new ArrayList<>();

        public String getType() { return type; }
        public void setType(String type) { this.type = type; }
        public String getTable() { return table; }
        public void setTable(String table) { this.table = table; }
        public String getSchema() { return schema; }
        public void setSchema(String schema) { this.schema = schema; }
        public Key getKey() { return key; }
        public String getVersionColumn() { return versionColumn; }
        public void setVersionColumn(String versionColumn) { this.versionColumn = versionColumn; }
        public List<String> getColumns() { return columns; }
        public void setColumns(List<String> columns) { this.columns = columns; }
    }

    /** The key column of a copy table. */
    public static class Key {
        /** The key column's name. */
        private String column;

        /** The payload field path the key column is filled from. */
        private String field;

        /** Fill the key column from the event's subject (the aggregate key) instead of a payload field. */
        private boolean fromSubject = false;

        public String getColumn() { return column; }
        public void setColumn(String column) { this.column = column; }
        public String getField() { return field; }
        public void setField(String field) { this.field = field; }
        public boolean isFromSubject() { return fromSubject; }
        public void setFromSubject(boolean fromSubject) { this.fromSubject = fromSubject; }
    }

    public boolean isEnabled() { return enabled; }
    public void setEnabled(boolean enabled) { this.enabled = enabled; }
    public String getSource() { return source; }
    public void setSource(String source) { this.source = source; }
    public String getSchema() { return schema; }
    public void setSchema(String schema) { this.schema = schema; }
    public String getTablePrefix() { return tablePrefix; }
    public void setTablePrefix(String tablePrefix) { this.tablePrefix = tablePrefix; }
    public boolean isInstallSchema() { return installSchema; }
    public void setInstallSchema(boolean installSchema) { this.installSchema = installSchema; }
    public Relay getRelay() { return relay; }
    public Map<String, Subscription> getSubscriptions() { return subscriptions; }
}
