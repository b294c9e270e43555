package io.eventsync.cli.demo;

import io.eventsync.cli.internal.DiffJson;
import io.eventsync.cli.internal.Json;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.verify.DiffReport;
import io.eventsync.verify.FreshnessHistogram;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/** What the demo measured and proved, as text for people and as JSON for scripts. */
public final class DemoReport implements Json.Value {
    private final Map<String, Object> json;
    private final String text;
    private final boolean ok;

    private DemoReport(Map<String, Object> json, String text, boolean ok) {
        this.json = json;
        this.text = text;
        this.ok = ok;
    }

    /** True when every copy matches its source and invalid events are only in the dead letters. */
    public boolean ok() {
        return ok;
    }

    public String text() {
        return text;
    }

    @Override
    public Object toJson() {
        return json;
    }

    static DemoReport build(DemoSettings settings, String transportName, String databaseKind, Writers writers, List<CopyService> copies,
                            List<DiffReport> diffs, Faults faults, DuplicatingTransport transport,
                            MeterRegistry meters, long endToEndNanos, Function<String, String> url) {
        long written = writers.written.get();
        double writeSeconds = writers.elapsedNanos() / 1e9;
        double totalSeconds = endToEndNanos / 1e9;
        Set<String> invalidIds = writers.invalidEventIds;

        Map<String, Object> root = new LinkedHashMap<>();
        root.put("directory", settings.dir().toAbsolutePath().toString());
        Map<String, Object> databases = new LinkedHashMap<>();
        for (String db : List.of("orders", "billing", "shipping")) {
            databases.put(db, url.apply(db));
        }
        root.put("databases", databases);
        root.put("transport", transportName);
        root.put("database", databaseKind);
        Map<String, Object> workload = new LinkedHashMap<>();
        workload.put("events_written", written);
        workload.put("invalid_events_written", invalidIds.size());
        workload.put("keys", settings.keys());
        workload.put("skew", settings.skew());
        workload.put("writers", settings.writers());
        workload.put("rate_limit", settings.rate());
        workload.put("write_seconds", round(writeSeconds));
        workload.put("write_events_per_second", round(written / Math.max(writeSeconds, 1e-9)));
        workload.put("end_to_end_seconds", round(totalSeconds));
        workload.put("synced_events_per_second", round(written / Math.max(totalSeconds, 1e-9)));
        root.put("workload", workload);
        root.put("faults", settings.faults().rates());

        boolean ok = true;
        long totalRetries = 0;
        long totalDuplicates = 0;
        List<Object> copyList = new ArrayList<>();
        for (int i = 0; i < copies.size(); i++) {
            CopyService copy = copies.get(i);
            DiffReport diff = diffs.get(i);
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", copy.name);
            c.put("applied", copy.applied());
            FreshnessHistogram.Snapshot f = copy.scope.freshness.snapshot();
            Map<String, Object> freshness = new LinkedHashMap<>();
            freshness.put("count", f.count());
            freshness.put("p50_ms", f.p50());
            freshness.put("p95_ms", f.p95());
            freshness.put("p99_ms", f.p99());
            freshness.put("max_ms", f.max());
            c.put("freshness", freshness);
            c.put("retries", copy.scope.retries.get());
            c.put("duplicates_suppressed", copy.scope.duplicates.get());
            c.put("restarts", copy.restarts.get());
            c.put("timeouts", meter(meters, copy.group, "eventsync.dispatcher.timed_out"));
            c.put("abandoned", meter(meters, copy.group, "eventsync.dispatcher.abandoned"));
            totalRetries += copy.scope.retries.get();
            totalDuplicates += copy.scope.duplicates.get();

            List<DeadLetter> letters = copy.deadLetters();
            Map<String, Long> reasons = new TreeMap<>();
            boolean onlyInvalid = true;
            Set<String> invalidLettered = new java.util.HashSet<>();
            Set<String> failedIds = new java.util.HashSet<>();
            letters.stream().filter(l -> l.kind() == DeadLetter.Kind.FAILED).forEach(l -> failedIds.add(l.eventId()));
            for (DeadLetter letter : letters) {
                reasons.merge(reasonOf(letter, failedIds), 1L, Long::sum);
                if (invalidIds.contains(letter.eventId())) {
                    invalidLettered.add(letter.eventId());
                } else {
                    onlyInvalid = false;
                }
            }
            int invalidApplied = 0;
            for (String id : invalidIds) {
                if (copy.inbox.contains(copy.group, id)) {
                    invalidApplied++;
                }
            }
            // Every invalid event is a dead letter here, no valid event is, and none reached the copy.
            boolean invalidOk = onlyInvalid && invalidLettered.size() == invalidIds.size() && invalidApplied == 0;
            Map<String, Object> dead = new LinkedHashMap<>();
            dead.put("count", letters.size());
            dead.put("reasons", reasons);
            dead.put("invalid_events_dead_lettered", invalidLettered.size());
            dead.put("invalid_events_applied", invalidApplied);
            dead.put("invalid_events_only_in_dead_letters", invalidOk);
            c.put("dead_letters", dead);

            c.put("consistency", DiffJson.of(diff));
            copyList.add(c);
            ok &= diff.matches() && invalidOk;
        }
        root.put("copies", copyList);
        Map<String, Object> injected = new LinkedHashMap<>();
        injected.put("handler_errors", faults.handlerErrors.get());
        injected.put("hangs", faults.hangs.get());
        injected.put("ignored_cancellations", faults.abandons.get());
        injected.put("duplicate_publishes", transport.duplicated.get());
        injected.put("invalid_events", invalidIds.size());
        injected.put("consumer_restarts", copies.stream().mapToLong(c -> c.restarts.get()).sum());
        root.put("injected", injected);
        root.put("result", ok ? "MATCH" : "MISMATCH");

        return new DemoReport(root, text(root, copies, diffs, settings), ok);
    }

    /** Sums the dispatcher's counters whose name mentions {@code word}, for one subscription. */
    static Object meter(MeterRegistry meters, String subscription, String word) {
        double sum = 0;
        boolean found = false;
        for (Meter m : meters.getMeters()) {
            String name = m.getId().getName();
            if (!name.equals(word)) {
                continue;
            }
            String sub = m.getId().getTag("subscription");
            if (sub != null && !sub.equals(subscription)) {
                continue;
            }
            if (m instanceof Counter counter) {
                sum += counter.count();
                found = true;
            } else if (m instanceof FunctionCounter counter) {
                sum += counter.count();
                found = true;
            }
        }
        return found ? (Object) (long) sum : "n/a";
    }

    private static String reasonOf(DeadLetter letter, Set<String> failedIds) {
        if (letter.kind() == DeadLetter.Kind.HELD && failedIds.contains(letter.eventId())) {
            // A consumer restart delivered the event again before its offset was stored, and the dispatcher
            // held the second copy behind the first instead of recognising it (reported to the lead).
            return "held: the same event delivered again after a consumer restart, behind its own dead letter";
        }
        if (letter.kind() == DeadLetter.Kind.HELD) {
            // Their reasons name the letter they wait behind; one line for all of them reads better.
            return "held behind an earlier dead letter of the same key (until it is replayed or discarded)";
        }
        return letter.reason().replace('\n', ' ');
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    @SuppressWarnings("unchecked")
    private static String text(Map<String, Object> root, List<CopyService> copies, List<DiffReport> diffs,
                               DemoSettings settings) {
        StringBuilder out = new StringBuilder();
        Map<String, Object> w = (Map<String, Object>) root.get("workload");
        out.append(String.format(Locale.ROOT, "%neventsync demo - %s transport, %s%n", root.get("transport"),
                root.get("database")));
        out.append(String.format(Locale.ROOT, "  events written   %,d valid + %,d invalid on %,d keys (skew %.2f, %d writers)%n",
                w.get("events_written"), w.get("invalid_events_written"), settings.keys(), settings.skew(),
                settings.writers()));
        out.append(String.format(Locale.ROOT, "  throughput       %,.0f events/s written, %,.0f events/s synced end to end (%.2f s)%n",
                (double) w.get("write_events_per_second"), (double) w.get("synced_events_per_second"),
                (double) w.get("end_to_end_seconds")));
        if (settings.rate() == 0) {
            out.append("  (as fast as possible: freshness includes waiting behind the backlog; --rate N measures it at a load)\n");
        }
        out.append("  faults           ").append(settings.faults()).append('\n');
        Map<String, Object> injected = (Map<String, Object>) root.get("injected");
        if (settings.faults().any()) {
            out.append(String.format(Locale.ROOT, "  injected         %s handler errors, %s hangs, %s ignored cancellations,"
                            + " %s duplicate publishes, %s invalid events, %s consumer restarts%n",
                    injected.get("handler_errors"), injected.get("hangs"), injected.get("ignored_cancellations"),
                    injected.get("duplicate_publishes"), injected.get("invalid_events"), injected.get("consumer_restarts")));
        }
        out.append('\n');
        out.append(String.format(Locale.ROOT, "  %-9s %9s %9s %9s %9s %9s %8s %8s %9s %10s %6s  %s%n", "copy", "applied",
                "p50 ms", "p95 ms", "p99 ms", "max ms", "retries", "timeouts", "abandoned", "duplicates", "dead", "check"));
        List<Object> copyList = (List<Object>) root.get("copies");
        for (Object o : copyList) {
            Map<String, Object> c = (Map<String, Object>) o;
            Map<String, Object> f = (Map<String, Object>) c.get("freshness");
            Map<String, Object> d = (Map<String, Object>) c.get("dead_letters");
            Map<String, Object> k = (Map<String, Object>) c.get("consistency");
            String verdict = "MATCH".equals(k.get("verdict")) ? "MATCH"
                    : "DIFF (" + k.get("differing_keys") + " keys)";
            out.append(String.format(Locale.ROOT, "  %-9s %,9d %9s %9s %9s %9s %8s %8s %9s %10s %6s  %s%n", c.get("name"),
                    (long) c.get("applied"), ms(f.get("p50_ms")), ms(f.get("p95_ms")), ms(f.get("p99_ms")),
                    ms(f.get("max_ms")), c.get("retries"), c.get("timeouts"), c.get("abandoned"),
                    c.get("duplicates_suppressed"), d.get("count"), verdict));
        }
        for (Object o : copyList) {
            Map<String, Object> c = (Map<String, Object>) o;
            Map<String, Object> d = (Map<String, Object>) c.get("dead_letters");
            Map<String, Long> reasons = (Map<String, Long>) d.get("reasons");
            if (!reasons.isEmpty()) {
                out.append(String.format(Locale.ROOT, "%n  dead letters of %s (invalid events only in dead letters: %s)%n",
                        c.get("name"), Boolean.TRUE.equals(d.get("invalid_events_only_in_dead_letters")) ? "yes" : "NO"));
                reasons.forEach((reason, n) -> out.append(String.format(Locale.ROOT, "    %5d  %s%n", n,
                        reason.length() <= 160 ? reason : reason.substring(0, 157) + "...")));
            }
        }
        for (DiffReport diff : diffs) {
            if (!diff.matches()) {
                out.append(String.format(Locale.ROOT, "%n  %s differs on %d keys, e.g.:%n", diff.name(), diff.differingKeys()));
                diff.differences().forEach(d -> out.append("    ").append(d).append('\n'));
            }
        }
        out.append(String.format(Locale.ROOT, "%n  result: %s%n", root.get("result")));
        Map<String, Object> dbs = (Map<String, Object>) root.get("databases");
        if (settings.infrastructure().db() == null) {
            out.append(String.format(Locale.ROOT, "%n  The databases are in %s (the log: eventsync.log)%n", root.get("directory")));
        } else {
            out.append(String.format(Locale.ROOT, "%n  The databases (the log is in %s/eventsync.log):%n", root.get("directory")));
        }
        dbs.forEach((name, u) -> out.append(String.format(Locale.ROOT, "    %-9s %s%n", name, u)));
        if (settings.infrastructure().db() == null) {
            out.append(String.format(Locale.ROOT, "  Look inside (user sa, no password), e.g.:%n"
                    + "    java -cp eventsync-cli/target/eventsync.jar org.h2.tools.Shell -url %s -user sa \\%n"
                    + "        -sql \"SELECT * FROM billing_orders ORDER BY order_id LIMIT 10\"%n", dbs.get("billing")));
            out.append(String.format(Locale.ROOT, "  Next: build a fourth copy from the same event log, with no Java code:%n"
                    + "    ./eventsync run --config %s/pipeline.yaml%n", root.get("directory")));
        }
        return out.toString();
    }

    private static String ms(Object duration) {
        return String.format(Locale.ROOT, "%.1f", ((Duration) duration).toNanos() / 1e6);
    }
}
