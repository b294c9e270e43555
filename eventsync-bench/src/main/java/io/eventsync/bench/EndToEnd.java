package io.eventsync.bench;

import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.SchemaNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * End to end, source commit to copy commit, on the embedded log: H2 (file) and PostgreSQL. The
 * workload and its phases are those of {@link EndToEndRig}; {@link TransportBench} runs the same one
 * over the broker transports.
 *
 * <p>Run: {@code mvn -B -q -o -pl eventsync-bench -am package -DskipTests && java -cp
 * eventsync-bench/target/benchmarks.jar io.eventsync.bench.EndToEnd [h2|postgres|all]} (system properties
 * {@code -Dwriters=8 -Devents=30000 -Dbacklog=15000 -Dseconds=10 -Dpg.url=...}). Writes {@code bench-results/end-to-end.txt}.
 */
public final class EndToEnd {
    private static final int SATURATION_EVENTS = Integer.getInteger("events", 30_000);
    private static final int HALF_RATE_SECONDS = Integer.getInteger("seconds", 10);
    private static final int BACKLOG = Integer.getInteger("backlog", SATURATION_EVENTS / 2);

    private EndToEnd() {
    }

    public static void main(String[] args) throws Exception {
        String which = args.length > 0 ? args[0] : "all";
        List<String> lines = new ArrayList<>();
        lines.add("# eventsync end-to-end (source commit -> copy commit), embedded log, " + Instant.now());
        lines.add("# " + EndToEndRig.WRITERS + " writers, " + EndToEndRig.KEYS + " keys, consumer "
                + EndToEndRig.LANES + " lanes, at most " + EndToEndRig.MAX_BATCH + " events per apply transaction; saturation " + SATURATION_EVENTS
                + " events, backlog " + BACKLOG + ", half rate " + HALF_RATE_SECONDS + " s; " + Runtime.getRuntime().availableProcessors() + " cores");
        if (which.equals("all") || which.equals("h2")) {
            lines.add(run("h2+log", EndToEndRig.h2Pools()));
        }
        if (which.equals("all") || which.equals("postgres")) {
            lines.add(run("postgresql+log", EndToEndRig.pgPools()));
        }
        Path out = Path.of("bench-results", "end-to-end" + (EndToEndRig.MAX_BATCH == 1 ? "-unbatched" : "") + ".txt");
        Files.createDirectories(out.getParent());
        Files.write(out, lines);
        lines.forEach(System.out::println);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    private static String run(String name, EndToEndRig.Pools pools) throws Exception {
        EndToEndRig.Result r = new EndToEndRig().run(pools, EndToEnd::embeddedLog, "accounts",
                BACKLOG, SATURATION_EVENTS, HALF_RATE_SECONDS);
        return String.format(Locale.ROOT, "%-15s saturation %7.0f events/s end to end (writers committed %7.0f/s;"
                        + " consumer alone drained a backlog at %7.0f/s); at half rate (%6.0f events/s, %d events):"
                        + " freshness p50 %6.2f ms, p99 %7.2f ms, max %7.2f ms",
                name, r.rate(), r.writerRate(), r.consumerRate(), r.halfRate(), r.halfEvents(), r.p50(), r.p99(), r.max());
    }

    /** The embedded log in the source database, consumer offsets in the copy's. */
    static EndToEndRig.Opened embeddedLog(EndToEndRig.Pools pools, SchemaNames sourceNames, SchemaNames copyNames) {
        EmbeddedLog log = EmbeddedLog.builder().dataSource(pools.source()).names(sourceNames)
                .offsets(Offsets.in(pools.copy(), copyNames)).build();
        return new EndToEndRig.Opened(log, () -> { });
    }
}
