package io.eventsync.verify;

import java.util.Map;
import java.util.Objects;

/**
 * One key whose row differs between source and copy.
 *
 * @param key    the key value, as text
 * @param kind   what is different
 * @param source the source row's compared values by source column (empty when missing there)
 * @param copy   the copy row's compared values by copy column (empty when missing there)
 */
public record KeyDifference(String key, Kind kind, Map<String, String> source, Map<String, String> copy) {

    public enum Kind {
        /** The source has the key, the copy does not. */
        MISSING_IN_COPY,
        /** The copy has a key the source does not have. */
        EXTRA_IN_COPY,
        /** Both have the key, with different values. */
        VALUES_DIFFER
    }

    public KeyDifference {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        source = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(source));
        copy = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(copy));
    }

    @Override
    public String toString() {
        return switch (kind) {
            case MISSING_IN_COPY -> key + ": missing in copy";
            case EXTRA_IN_COPY -> key + ": only in copy";
            case VALUES_DIFFER -> key + ": source " + source + " vs copy " + copy;
        };
    }
}
