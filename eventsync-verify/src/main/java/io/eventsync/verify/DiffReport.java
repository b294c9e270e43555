package io.eventsync.verify;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of comparing a copy to its source.
 *
 * @param name            what was compared, e.g. {@code orders -> billing}
 * @param sourceRows      rows read from the source projection
 * @param copyRows        rows read from the copy
 * @param differingKeys   how many keys differ in total
 * @param differences     the first differing keys (at most the limit given to the diff), ordered by key
 */
public record DiffReport(String name, long sourceRows, long copyRows, long differingKeys, List<KeyDifference> differences) {

    public DiffReport {
        Objects.requireNonNull(name, "name");
        differences = List.copyOf(differences);
    }

    /** True when every key has the same values on both sides. */
    public boolean matches() {
        return differingKeys == 0;
    }

    /** {@code MATCH}, or {@code DIFF (n keys)}. */
    public String verdict() {
        return matches() ? "MATCH" : "DIFF (" + differingKeys + " keys)";
    }
}
