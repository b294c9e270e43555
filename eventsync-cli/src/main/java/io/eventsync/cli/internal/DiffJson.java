package io.eventsync.cli.internal;

import io.eventsync.verify.DiffReport;
import io.eventsync.verify.KeyDifference;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A consistency check's result as {@link Json} values: the same fields in {@code verify --json} and the demo report. */
public final class DiffJson {
    private DiffJson() {}

    /** verdict (MATCH|DIFF), source_rows, copy_rows, differing_keys and the differences (key, kind, source, copy). */
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
        return out;
    }
}
