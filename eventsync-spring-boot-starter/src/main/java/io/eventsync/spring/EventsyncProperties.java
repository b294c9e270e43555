package io.eventsync.spring;

import java.time.Duration;
import java.util.LinkedHashMap;
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

    /** Subscriptions (consumer groups) by name; handlers are bound to one with {@code @EventsyncHandler}. */
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

        /** {@code fanout}: every instance of this service gets every event once per group; {@code queue}: instances share. */
        private String mode = "fanout";

        public String getTopic() { return topic; }
        public void setTopic(String topic) { this.topic = topic; }
        public int getLanes() { return lanes; }
        public void setLanes(int lanes) { this.lanes = lanes; }
        public String getMode() { return mode; }
        public void setMode(String mode) { this.mode = mode; }
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
