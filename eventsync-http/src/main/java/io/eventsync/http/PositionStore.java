package io.eventsync.http;

import io.eventsync.jdbc.Offsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a pulling consumer keeps its feed position: the next offset to read, per group and topic.
 * {@link #of(Offsets)} keeps it in the copy's database ({@code eventsync_offsets}); {@link #inMemory()}
 * forgets it on restart (the copy then starts over and its inbox skips what it already applied).
 */
public interface PositionStore {

    /**
     * The partition under which HTTP feed positions are stored: the embedded log's, because the feed
     * serves that log's offsets; a copy can switch between reading the log directly and over HTTP.
     */
    String PARTITION = "0";

    /** The stored next offset; 0 when the group never stored one for the topic. */
    long load(String group, String topic);

    /** Raises the stored next offset to {@code next} (every offset below it is applied); never lowers it. */
    void save(String group, String topic, long next);

    /** Positions in the copy's database, through eventsync-jdbc's {@link Offsets}. */
    static PositionStore of(Offsets offsets) {
        return new PositionStore() {
            @Override
            public long load(String group, String topic) {
                return offsets.load(group, topic, PARTITION);
            }

            @Override
            public void save(String group, String topic, long next) {
                offsets.store(group, topic, PARTITION, next);
            }
        };
    }

    static PositionStore inMemory() {
        ConcurrentHashMap<String, Long> positions = new ConcurrentHashMap<>();
        return new PositionStore() {
            @Override
            public long load(String group, String topic) {
                return positions.getOrDefault(group + '\u0000' + topic, 0L);
            }

            @Override
            public void save(String group, String topic, long next) {
                positions.merge(group + '\u0000' + topic, next, Math::max);
            }
        };
    }
}
