package io.eventsync.cli.internal;

import io.eventsync.verify.DiffReport;
import io.eventsync.verify.KeyDifference;
import io.eventsync.verify.KeyRepair;
import io.eventsync.verify.TableDiff;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A consistency check's result as {@link Json} values: the same fields in {@code verify --json} and the demo report. */
public final class DiffJson {
    private DiffJson() {}

    /**
     * verdict (MATCH|DIFF), source_rows, copy_rows, differing_keys, the differences (key, kind, source,
     * copy), what the diff did (ranges, rows_read, in_flight, seconds) and, with a repair, what it did.
     */
    public static Map<String, Object> of(DiffReport report) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("verdict", report.matches() ? "MATCH" : "DIFF");
        out.put("source_rows", report.sourceRows());
        out.put("copy_rows", report.copyRows());
        out.put("differing_keys", report.differingKeys());
        List<Object> keys = new ArrayList<>();
        for (KeyDifference d : report.differences()) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("key", d.key());
            k.put("kind", d.kind());
            k.put("source", d.source());
            k.put("copy", d.copy());
            keys.add(k);
        }
        out.put("differences", keys);
        DiffReport.Work w = report.work();
        Map<String, Object> work = new LinkedHashMap<>();
        work.put("ranges", w.ranges());
        work.put("bisected", w.bisected());
        work.put("rows_read", w.rowsFetched());
        work.put("in_flight", w.inFlight());
        work.put("seconds", w.elapsed().toNanos() / 1e9);
        out.put("work", work);
        DiffReport.Repairs r = report.repairs();
        if (r.mode() != TableDiff.Repair.NONE) {
            Map<String, Object> repair = new LinkedHashMap<>();
            repair.put("mode", r.mode() == TableDiff.Repair.APPLY ? "apply" : "dry_run");
            repair.put("changed", r.changed());
            repair.put("kept", r.kept());
            List<Object> repaired = new ArrayList<>();
            for (KeyRepair k : r.keys()) {
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("key", k.key());
                one.put("kind", k.kind());
                one.put("action", k.action());
                one.put("outcome", k.outcome());
                one.put("detail", k.detail());
                repaired.add(one);
            }
            repair.put("keys", repaired);
            out.put("repair", repair);
        }
        return out;
    }
}
