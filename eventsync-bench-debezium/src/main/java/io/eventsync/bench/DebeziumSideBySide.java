package io.eventsync.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.bench.EndToEndRig.Relaying;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * One case of the side-by-side benchmark against Debezium's embedded engine, in its own JVM (run by
 * {@code bench/run-debezium.sh}, which interleaves the cases over rounds and then calls
 * {@link DebeziumReport}). Every case meets the same writers ({@link EndToEndRig}: 8 threads, 2,000 keys,
 * each transaction a business-row upsert plus the case's event write, synchronous commit) on the
 * {@code wal_level=logical} cluster of {@code scripts/pg-logical.sh}, and the same three phases: a backlog
 * drained by the consumer alone (also the warm-up), saturation, and freshness at half the saturation
 * rate. The copy lives in another schema of the same cluster.
 *
 * <ul>
 *   <li>{@code query}: eventsync's outbox table, query relay, embedded log, Dispatcher (8 lanes) +
 *       JdbcApplyScope + CopyTable, one copy transaction per batch of ready keys;</li>
 *   <li>{@code wal}: the same with {@code WalOutbox} logical messages and the WAL relay;</li>
 *   <li>{@code direct}: {@code WalOutbox} and the WAL relay handing events straight to the same consumer
 *       ({@code DirectPublisher}, no log in between): the slot advances past copy commits, as Debezium's
 *       offsets do;</li>
 *   <li>{@code debezium}: Debezium 3.6.1 embedded, pgoutput, an insert-only outbox table in a publication,
 *       feeding {@link DebeziumCopy} (one copy transaction per Debezium batch);</li>
 *   <li>{@code dual}: a plain dual write, the writer upserts the copy itself after its commit (no
 *       exactly-once, no atomicity: the floor of the writers' cost, not a way to sync);</li>
 *   <li>{@code plain}: the business transaction alone, no event, no copy (the writers' ceiling; only the
 *       writers' rate is reported).</li>
 * </ul>
 *
 * <p>Appends one tab-separated line per run to {@code -Dout} (default {@code bench-results/debezium-raw.tsv}):
 * case, round, saturation events/s, writers' tx/s, backlog drain events/s, half rate, p50 ms, p99 ms,
 * events in the freshness sample, load average at start, backlog drain from the first copy commit. System properties: {@code -Devents=20000
 * -Dseconds=10 -Dbacklog=5000 -Dwriters=8 -Dround=1 -Dpg.url=jdbc:postgresql://127.0.0.1:5433/test}.
 */
public final class DebeziumSideBySide {
    static final List<String> CASES = List.of("query", "wal", "direct", "debezium", "dual", "plain");
    private static final int EVENTS = Integer.getInteger("events", 20_000);
    private static final int SECONDS = Integer.getInteger("seconds", 10);
    private static final int BACKLOG = Integer.getInteger("backlog", 5_000);

    private DebeziumSideBySide() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1 || !CASES.contains(args[0])) {
            throw new IllegalArgumentException("expected one case of " + CASES + ", got " + List.of(args));
        }
        String which = args[0];
        Path out = Path.of(System.getProperty("out", "bench-results/debezium-raw.tsv"));
        String load = DebeziumReport.loadAverage();
        EndToEndRig.Result r = run(which);
        String line = String.format(Locale.ROOT, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%.3f\t%d\t%s\t%.1f%n", which,
                System.getProperty("round", "1"), r.rate(), r.writerRate(), r.consumerRate(), r.halfRate(), r.p50(),
                r.p99(), r.halfEvents(), load, r.drainFromFirstApply());
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        System.out.print("measured " + line);
        System.exit(0); // the engine's and pools' non-daemon threads are closed; this also ends any straggler
    }

    private static EndToEndRig.Result run(String which) throws Exception {
        String topic = "bench_" + which + "_" + EndToEndRig.suffix();
        return switch (which) {
            case "query" -> new EndToEndRig(Relaying.QUERY).run(EndToEndRig.pgPools(), EndToEnd::embeddedLog, topic,
                    BACKLOG, EVENTS, SECONDS);
            case "wal" -> new EndToEndRig(Relaying.WAL).run(EndToEndRig.pgPools(), EndToEnd::embeddedLog, topic,
                    BACKLOG, EVENTS, SECONDS);
            case "direct" -> new EndToEndRig(Relaying.DIRECT).run(EndToEndRig.pgPools(), null, topic, BACKLOG, EVENTS,
                    SECONDS);
            case "debezium" -> withPools((rig, pools) -> DebeziumCopy.pipeline(rig, pools));
            case "plain" -> withPools(DualWrite::plain);
            default -> withPools(DualWrite::pipeline);
        };
    }

    @FunctionalInterface
    private interface PipelineFactory {
        DebeziumCopy.Closing open(EndToEndRig rig, EndToEndRig.Pools pools) throws Exception;
    }

    /** Fresh source and copy schemas with the writers' table, the pipeline's phases, then everything dropped. */
    private static EndToEndRig.Result withPools(PipelineFactory factory) throws Exception {
        EndToEndRig rig = new EndToEndRig();
        EndToEndRig.Pools pools = EndToEndRig.pgPools();
        HikariDataSource source = pools.source();
        try {
            EndToEndRig.createAccounts(source);
            try (DebeziumCopy.Closing pipeline = factory.open(rig, pools)) {
                return rig.phases(source, pipeline.pipeline(), BACKLOG, EVENTS, SECONDS);
            }
        } finally {
            pools.source().close();
            pools.copy().close();
            pools.cleanup().run();
        }
    }
}
