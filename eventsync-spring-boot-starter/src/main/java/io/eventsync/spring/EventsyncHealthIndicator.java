package io.eventsync.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * Actuator health of eventsync: per subscription the parked keys, degraded handler types and events
 * waiting on the dead-letter store. DOWN while an event waits on a store that cannot be written
 * (acknowledgements stop behind it); parked keys and degraded handlers are reported, not DOWN.
 */
public final class EventsyncHealthIndicator extends AbstractHealthIndicator {
    private final EventsyncConsumers consumers;

    public EventsyncHealthIndicator(EventsyncConsumers consumers) {
        super("eventsync health check failed");
        this.consumers = consumers;
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
            builder.withDetail(r.name(), details);
            down |= blocked > 0;
        }
        if (down) {
            builder.down();
        } else {
            builder.up();
        }
    }
}
