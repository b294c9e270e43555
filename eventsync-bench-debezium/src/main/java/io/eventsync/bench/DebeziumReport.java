package io.eventsync.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The Markdown table of {@code bench/run-debezium.sh}: medians over the rounds of each case's lines in
 * the raw file {@link DebeziumSideBySide} appended, and the ratios eventsync / Debezium.
 *
 * <p>Usage: {@code DebeziumReport <raw.tsv> <out.md> <load average at start> <command>}.
 */
public final class DebeziumReport {
    private record Run(String name, double rate, double writerRate, double drain, double half, double p50, double p99,
                       int sample, String load, double drainFromFirst) {}

    private DebeziumReport() {
    }

    public static void main(String[] args) throws Exception {
        Path raw = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Map<String, List<Run>> runs = new LinkedHashMap<>();
        DebeziumSideBySide.CASES.forEach(c -> runs.put(c, new ArrayList<>()));
        for (String line : Files.readAllLines(raw)) {
            String[] f = line.split("\t");
            runs.computeIfAbsent(f[0], k -> new ArrayList<>()).add(new Run(f[0], d(f[2]), d(f[3]), d(f[4]), d(f[5]), d(f[6]), d(f[7]), Integer.parseInt(f[8]),
                    f[9], d(f[10])));
        }
        String report = report(runs, args[2], args[3]);
        Files.writeString(out, report);
        System.out.print(report);
    }

    private static String report(Map<String, List<Run>> runs, String loadAtStart, String command) {
        StringBuilder b = new StringBuilder();
        int rounds = runs.values().stream().mapToInt(List::size).max().orElse(0);
        b.append("# eventsync vs Debezium embedded, side by side on one PostgreSQL cluster, ").append(Instant.now())
                .append("\n\n");
        b.append("PostgreSQL 15 (`scripts/pg-logical.sh`, port 5433, wal_level=logical, synchronous_commit on); ")
                .append(EndToEndRig.WRITERS).append(" writers, ").append(EndToEndRig.KEYS).append(" keys, each writer")
                .append(" transaction a business-row upsert + the case's event write; copy (inbox + version-guarded")
                .append(" upsert) in another schema of the same cluster. Each case in its own JVM, cases interleaved,")
                .append(" medians of ").append(rounds).append(" round(s). Freshness = source commit -> copy commit of")
                .append(" every event, writers paced at half the case's own saturation rate.\n\n");
        b.append("- **query**: eventsync outbox table, query `Relay`, `EmbeddedLog`, `Dispatcher` (8 lanes) +"
                + " `JdbcApplyScope` + `CopyTable`, one copy transaction per batch of ready keys (at most 256 events).\n");
        b.append("- **wal**: the same consumer; writers append `WalOutbox` logical messages, `WalRelay` reads the slot.\n");
        b.append("- **direct**: `WalOutbox` and `WalRelay` as in wal, but the relay hands each event to the same"
                + " consumer through a `DirectPublisher` (no log in between); the slot advances only past events whose"
                + " copy transaction committed, as Debezium's offsets do.\n");
        b.append("- **Debezium**: 3.6.1.Final embedded engine, pgoutput, insert-only outbox table in a publication;"
                + " hand-written consumer, one copy transaction per Debezium batch (inbox insert of the batch's ids in"
                + " one statement, JDBC-batched version-guarded upserts, commit, then mark the batch processed);"
                + " `poll.interval.ms=5`.\n");
        b.append("- **dual write**: no event; the writer upserts the copy itself after its commit (the floor of the"
                + " writers' cost; no atomicity, no exactly-once).\n");
        b.append("- **plain**: the business transaction alone, no event and no copy (the writers' ceiling; only its"
                + " writers' rate is a figure).\n\n");
        b.append("| figure (medians) | eventsync query relay | eventsync WAL relay | eventsync WAL direct |"
                + " Debezium, tx per batch | dual write | plain tx | query / Debezium | WAL / Debezium |"
                + " direct / Debezium |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        row(b, runs, "saturation, events/s end to end", Run::rate, "%.0f", true);
        row(b, runs, "writers' commit rate during it, tx/s", Run::writerRate, "%.0f", true);
        row(b, runs, "end to end as a share of the writers' rate", r -> 100 * r.rate / r.writerRate, "%.0f%%", true);
        row(b, runs, "consumer alone, backlog drain from its start, events/s", Run::drain, "%.0f", true);
        row(b, runs, "the same from its first copy commit, events/s", Run::drainFromFirst, "%.0f", true);
        row(b, runs, "half rate, events/s", Run::half, "%.0f", true);
        row(b, runs, "freshness p50 at half rate, ms", Run::p50, "%.1f", false);
        row(b, runs, "freshness p99 at half rate, ms", Run::p99, "%.1f", false);
        b.append("\nPer round (saturation events/s; p99 ms): ");
        List<String> per = new ArrayList<>();
        runs.forEach((name, list) -> {
            if (!list.isEmpty()) {
                per.add(name + " " + String.join(" / ", list.stream().map(r -> String.format(Locale.ROOT, "%.0f; %.1f",
                        r.rate, r.p99)).toList()));
            }
        });
        b.append(String.join(", ", per)).append(".\n");
        b.append("Backlog: ").append("the writers commit it before the consumer starts; \"from its start\" includes"
                + " connecting (Debezium: engine start, connector and slot setup), \"from its first copy commit\" does"
                + " not. ");
        b.append("Dual write's backlog drain is n/a: it has no consumer. A ratio > 1 in the rates and < 1 in the"
                + " freshness rows favours eventsync.\n\n");
        b.append("Load average at start: ").append(loadAtStart).append("; at the end: ").append(loadAverage())
                .append(" (").append(Runtime.getRuntime().availableProcessors()).append(" cores, shared with other work:")
                .append(" writers, relay or engine, consumer and PostgreSQL all compete for them).\n");
        b.append("Command: `").append(command).append("`\n");
        return b.toString();
    }

    private static void row(StringBuilder b, Map<String, List<Run>> runs, String label, ToDoubleFunction<Run> figure,
                            String format, boolean higherIsBetter) {
        double query = median(runs.get("query"), figure);
        double wal = median(runs.get("wal"), figure);
        double direct = median(runs.get("direct"), figure);
        double dbz = median(runs.get("debezium"), figure);
        double dual = median(runs.get("dual"), figure);
        double plain = label.startsWith("writers'") ? median(runs.get("plain"), figure) : Double.NaN;
        b.append("| ").append(label).append(" | ").append(fmt(format, query)).append(" | ").append(fmt(format, wal))
                .append(" | ").append(fmt(format, direct)).append(" | ").append(fmt(format, dbz)).append(" | ").append(fmt(format, dual)).append(" | ")
                .append(fmt(format, plain)).append(" | ")
                .append(fmt("%.2f", query / dbz)).append(" | ").append(fmt("%.2f", wal / dbz)).append(" | ")
                .append(fmt("%.2f", direct / dbz)).append(" |\n");
    }

    private static String fmt(String format, double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "n/a" : String.format(Locale.ROOT, format, v);
    }

    private static double median(List<Run> runs, ToDoubleFunction<Run> figure) {
        double[] v = runs.stream().mapToDouble(figure).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double d(String s) {
        return s.equals("NaN") ? Double.NaN : Double.parseDouble(s);
    }

    static String loadAverage() {
        try {
            return String.join(" ", Arrays.copyOf(Files.readString(Path.of("/proc/loadavg")).split(" "), 3));
        } catch (Exception e) {
            return "?";
        }
    }
}
