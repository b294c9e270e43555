package io.eventsync.verify;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of comparing a copy to its source.
 *
 * @param name            what was compared, e.g. {@code orders -> billing}
 * @param sourceRows      rows of the source projection (counted in the source database)
 * @param copyRows        rows of the copy (counted in the copy's database)
 * @param differingKeys   how many keys differ in total (after the re-check of each)
 * @param differences     the first differing keys found (at most the limit given to the diff)
 * @param work            what the diff did to find them
 * @param repairs         what {@code repair} did or would do, {@link Repairs#none()} without repair
 */
public record DiffReport(String name, long sourceRows, long copyRows, long differingKeys,
                         List<KeyDifference> differences, Work work, Repairs repairs) {

    public DiffReport {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(repairs, "repairs");
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

    /**
     * What a diff did.
     *
     * @param ranges      key ranges whose checksums were compared (chunks and their parts)
     * @param bisected    ranges whose checksums differed and were split
     * @param rowsFetched rows (and range boundary keys) read into the JVM, both sides together: the
     *                    rest of the work happened inside the databases
     * @param inFlight    candidate differences that disappeared on their re-check (changes in flight)
     * @param elapsed     wall time
     */
    public record Work(long ranges, long bisected, long rowsFetched, long inFlight, Duration elapsed) {}

    /**
     * What a repair did ({@code APPLY}) or would do ({@code DRY_RUN}).
     *
     * @param mode    the repair asked for
     * @param changed keys changed (or, in a dry run, that would be)
     * @param kept    keys left alone because the copy holds a newer version
     * @param keys    the first repaired keys (at most the diff's report limit)
     */
    public record Repairs(TableDiff.Repair mode, long changed, long kept, List<KeyRepair> keys) {
        public Repairs {
            Objects.requireNonNull(mode, "mode");
            keys = List.copyOf(keys);
        }

        public static Repairs none() {
            return new Repairs(TableDiff.Repair.NONE, 0, 0, List.of());
        }
    }
}
