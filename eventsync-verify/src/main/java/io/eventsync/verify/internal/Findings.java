package io.eventsync.verify.internal;

import io.eventsync.verify.DiffReport;
import io.eventsync.verify.KeyDifference;
import io.eventsync.verify.KeyRepair;
import io.eventsync.verify.TableDiff;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** What a diff found and repaired: every one counted, the first ones kept (bounded memory). */
final class Findings {
    private final int keep;
    private final TableDiff.Repair mode;
    private final List<KeyDifference> differences = new ArrayList<>();
    private final List<KeyRepair> repairs = new ArrayList<>();
    private long differing;
    private long inFlight;
    private long changed;
    private long kept;

    Findings(int keep, TableDiff.Repair mode) {
        this.keep = keep;
        this.mode = mode;
    }

    void difference(KeyDifference d) {
        differing++;
        if (differences.size() < keep) {
            differences.add(d);
        }
    }

    void inFlight() {
        inFlight++;
    }

    void repaired(KeyRepair r) {
        if (r.outcome() == KeyRepair.Outcome.KEPT) {
            kept++;
        } else {
            changed++;
        }
        if (repairs.size() < keep) {
            repairs.add(r);
        }
    }

    long differing() {
        return differing;
    }

    long inFlightCount() {
        return inFlight;
    }

    /** The kept differences in key order (they were found range by range, re-checks in between). */
    List<KeyDifference> differences() {
        List<KeyDifference> sorted = new ArrayList<>(differences);
        sorted.sort(Comparator.comparing(KeyDifference::key));
        return sorted;
    }

    DiffReport.Repairs repairs() {
        return mode == TableDiff.Repair.NONE ? DiffReport.Repairs.none()
                : new DiffReport.Repairs(mode, changed, kept, repairs);
    }
}
