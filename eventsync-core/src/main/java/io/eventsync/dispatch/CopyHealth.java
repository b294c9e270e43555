package io.eventsync.dispatch;

import java.util.List;

/**
 * Whether a copy keeps up: unhealthy, with one reason per problem, when a source's freshness is past
 * the threshold or a partition has a backlog and made no progress for that long.
 */
public record CopyHealth(String subscription, boolean healthy, List<String> reasons) {
    public CopyHealth {
        reasons = List.copyOf(reasons);
    }
}
