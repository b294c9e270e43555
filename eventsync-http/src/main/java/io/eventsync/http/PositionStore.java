package io.eventsync.http;

import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a pulling consumer keeps its feed position: the next offset to read, per group and topic.
 * {@link JdbcPositionStore} keeps it in the copy's database; {@link #inMemory()} forgets it on restart
 * (the copy then starts over and relies on its inbox to skip what it already applied).
 */
public interface PositionStore {

    /** The stored next offset, or empty when the group never stored one for the topic. */
    OptionalLong load(String group, String topic);

    /** Stores {@code next}: every offset below it is applied. Never called with a smaller value than stored. */
    void save(String group, String topic, long next);

    static PositionStore inMemory() {
        ConcurrentHashMap<String, Long> positions = new ConcurrentHashMap<>();
        return new PositionStore() {
            @Override
            public OptionalLong load(String group, String topic) {
                Long next = positions.get(group + '\u0000' + topic);
                return next == null ? OptionalLong.empty() : OptionalLong.of(next);
            }

            @Override
            public void save(String group, String topic, long next) {
                positions.merge(group + '\u0000' + topic, next, Math::max);
            }
        };
    }
}
