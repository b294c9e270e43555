package io.eventsync.spring;

import io.eventsync.dispatch.CopyHealth;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Actuator health of eventsync: per subscription the parked keys, degraded handler types, events
 * waiting on the dead-letter store, freshness per source and lag in events ({@code lagEvents}, reported,
 * never DOWN by itself). DOWN while an event waits on a store that
 * cannot be written (acknowledgements stop behind it), or when {@code Dispatcher.health(maxFreshness)}
 * is unhealthy (a source's freshness past it, a partition with a backlog and no progress for that long);
 * parked keys and degraded handlers are reported, not DOWN.
 */
public final class EventsyncHealthIndicator extends AbstractHealthIndicator {
    private final EventsyncConsumers consumers;
    private final Duration maxFreshness;

    public EventsyncHealthIndicator(EventsyncConsumers consumers) {
        this(consumers, Duration.ofSeconds(30));
    }

    public EventsyncHealthIndicator(EventsyncConsumers consumers, Duration maxFreshness) {
        super("eventsync health check failed");
        this.consumers = consumers;
        this.maxFreshness = maxFreshness;
    }

    @Override
    protected void doHealthCheck(Health.Builder builder) {
        boolean down = false;
        for (EventsyncConsumers.Running r : consumers.running().values()) {
            Map<String, Object> details = new LinkedHashMap<>();
            int blocked = r.dispatcher().blockedOnDeadLetterStore();
            details.put("parkedKeys", r.dispatcher().parkedKeys().size());
            details.put("degradedHandlers", r.dispatcher().degradedTypes());
            details.put("blockedOnDeadLetterStore", blocked);
            details.put("inFlight", r.dispatcher().inFlight());
            Map<String, Object> freshness = new LinkedHashMap<>();
            r.dispatcher().freshness().forEach((source, f) -> freshness.put(source, f.freshness().toMillis() / 1000.0));
            details.put("freshnessSeconds", freshness);
            details.put("lagEvents", r.dispatcher().lag().events());
            CopyHealth health = r.dispatcher().health(maxFreshness);
            if (!health.healthy()) {
                details.put("problems", health.reasons());
            }
            builder.withDetail(r.name(), details);
            down |= blocked > 0 || !health.healthy();
        }
        if (down) {
            builder.down();
        } else {
            builder.up();
        }
    }
}
