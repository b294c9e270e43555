package io.eventsync.verify.internal;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.verify.DiffProgress;
import io.eventsync.verify.DiffReport;
import io.eventsync.verify.KeyDifference;
import io.eventsync.verify.LiveCheck;
import io.eventsync.verify.TableDiff;
import io.eventsync.verify.TableProjection;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * One diff of a source projection against a copy, by checksums computed inside each database.
 *
 * <p>The source's keys are walked in order, {@code chunkSize} rows at a time (keyset pagination:
 * each chunk starts after the last key of the one before); each chunk's count and hash sum is
 * computed on the source and, for the same key range, on the copy, on two threads at once (the copy
 * one chunk behind the source). A range whose sums differ is cut into {@code fanout} parts at keys
 * of the side with more rows and the parts' sums compared in one grouped query per side, down to
 * ranges of at most {@code leafRows} rows, which are read on both sides and compared row by row.
 * Only those rows (and the cut keys) reach the JVM, so memory stays flat whatever the table size.
 *
 * <p>Key ranges mean the same on both sides only if both order the keys the same way; for keys
 * whose order depends on a collation (text), the copy is asked whether any of its keys lies where
 * the source's order says there is none (a range {@code (hi, lo]} of a range {@code (lo, hi]}), and
 * the diff stops with an error naming the keys if so, rather than miscount.
 */
public final class DiffRun {

    /** What the public {@link TableDiff} was configured with. */
    public record Settings(int chunkSize, int leafRows, int fanout, int reportAtMost, String sourceVersion,
                           String copyVersion, LiveCheck live, TableDiff.Repair repair, SchemaNames repairNames,
                           int floatScale, Consumer<DiffProgress> progress) {}

    private final Settings settings;
    private final Side source;
    private final Side copy;
    private final boolean checkOrder;
    private final Findings findings;
    private final Settler settler;
    private final ExecutorService copyThread;
    private final long started = System.nanoTime();
    private final long estimatedRows;
    private long sourceRows;
    private long copyRows;
    private long ranges;
    private long bisected;
    private long pendingRanges;

    private DiffRun(Settings settings, Side source, Side copy, List<String> sourceNames, List<String> copyNames,
                    ExecutorService copyThread) {
        this.settings = settings;
        this.source = source;
        this.copy = copy;
        this.copyThread = copyThread;
        this.checkOrder = source.table.key().kind().ordersByCollation() || copy.table.key().kind().ordersByCollation();
        this.findings = new Findings(settings.reportAtMost(), settings.repair());
        Repairer repairer = settings.repair() == TableDiff.Repair.NONE ? null
                : new Repairer(settings.repair(), source, copy, settings.repairNames(), findings);
        this.settler = new Settler(source, copy, settings.live(), settings.sourceVersion() != null, findings,
                (kind, c) -> {
                    findings.difference(new KeyDifference(c.keyText(), kind, named(sourceNames, c.source()),
                            named(copyNames, c.copy())));
                    if (repairer != null) {
                        repairer.repair(kind, c);
                    }
                });
        this.estimatedRows = settings.progress() == null ? -1 : source.estimatedRows();
    }

    /** Resolves both sides in their catalogs, then runs the diff. */
    public static DiffReport compare(String name, Connection sourceConnection, TableProjection sourceSide,
                                     Connection copyConnection, TableProjection copySide, Settings settings)
            throws SQLException {
        if (sourceSide.columns().size() != copySide.columns().size()) {
            throw new ConfigException("source projection " + sourceSide.columns() + " and copy projection "
                    + copySide.columns() + " must have the same number of columns");
        }
        ResolvedTable s = ResolvedTable.resolve(sourceConnection, sourceSide.schema(), sourceSide.tableName(),
                sourceSide.keyColumn(), sourceSide.columns(), settings.sourceVersion(), sourceSide.where());
        ResolvedTable c = ResolvedTable.resolve(copyConnection, copySide.schema(), copySide.tableName(),
                copySide.keyColumn(), copySide.columns(), settings.copyVersion(), copySide.where());
        List<PairKind> pairs = new ArrayList<>();
        pairs.add(PairKind.of(s.key().kind(), c.key().kind()));
        for (int i = 0; i < s.columns().size(); i++) {
            pairs.add(PairKind.of(s.columns().get(i).kind(), c.columns().get(i).kind()));
        }
        VerifyDialect.Facts sourceFacts = s.dialect().facts(sourceConnection, settings.floatScale());
        VerifyDialect.Facts copyFacts = c.dialect().facts(copyConnection, settings.floatScale());
        VerifyDialect.RowHash rowHash = VerifyDialect.RowHash.between(s.dialect(), sourceFacts, c.dialect(), copyFacts);
        Side source = new Side("source", sourceConnection, s, new SideSql(s, pairs, sourceFacts, rowHash));
        Side copy = new Side("copy", copyConnection, c, new SideSql(c, pairs, copyFacts, rowHash));
        ExecutorService copyThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "eventsync-verify-copy");
            t.setDaemon(true);
            return t;
        });
        try {
            return new DiffRun(settings, source, copy, sourceSide.columns(), copySide.columns(), copyThread).run(name);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EventsyncException("diff " + name + " was interrupted", e);
        } finally {
            copyThread.shutdownNow();
        }
    }

    private DiffReport run(String name) throws SQLException, InterruptedException {
        int segmentRows = (settings.chunkSize() + settings.fanout() - 1) / settings.fanout();
        Object lo = null;
        Side.Chunk chunk = source.chunkAfter(null, settings.chunkSize(), segmentRows);
        while (true) {
            boolean last = chunk.count() < settings.chunkSize();
            Range range = new Range(lo, last ? null : chunk.last());
            List<Object> cuts = chunk.cuts();
            // The copy sums this chunk's segments while the source reads the next chunk.
            Future<Sum[]> copySums = copyThread.submit(() -> copySums(range, cuts));
            Side.Chunk next = last ? null : source.chunkAfter(chunk.last(), settings.chunkSize(), segmentRows);
            Sum[] copied = get(copySums);
            List<Sum> sourced = new ArrayList<>(chunk.segments());
            while (sourced.size() < copied.length) {
                sourced.add(Sum.EMPTY); // an empty chunk: the copy's one segment is everything after lo
            }
            sourceRows += chunk.count();
            for (Sum c : copied) {
                copyRows += c.count();
            }
            ranges++;
            compareParts(range, cuts, sourced, List.of(copied));
            progress();
            if (last) {
                break;
            }
            lo = chunk.last();
            chunk = next;
        }
        settler.drain();
        progress();
        DiffReport.Work work = new DiffReport.Work(ranges, bisected, source.rowsFetched() + copy.rowsFetched(),
                findings.inFlightCount(), Duration.ofNanos(System.nanoTime() - started));
        return new DiffReport(name, sourceRows, copyRows, findings.differing(), findings.differences(), work,
                findings.repairs());
    }

    /** The copy's sums of a chunk's segments, after checking that the cuts mean the same on the copy. */
    private Sum[] copySums(Range range, List<Object> cuts) throws SQLException {
        Sum[] sums = copy.segmentSums(range, cuts);
        if (checkOrder) {
            requireSameOrder(copy, reversedPairs(range, cuts));
        }
        return sums;
    }

    /** Bisects each part of {@code range} (cut at {@code cuts}) whose sums differ. */
    private void compareParts(Range range, List<Object> cuts, List<Sum> sourced, List<Sum> copied)
            throws SQLException, InterruptedException {
        List<Integer> differing = new ArrayList<>();
        for (int j = 0; j <= cuts.size(); j++) {
            if (!sourced.get(j).equals(copied.get(j))) {
                differing.add(j);
            }
        }
        pendingRanges += differing.size();
        progress();
        for (int j : differing) {
            Range part = new Range(j == 0 ? range.lo() : cuts.get(j - 1), j == cuts.size() ? range.hi() : cuts.get(j));
            bisect(part, sourced.get(j), copied.get(j));
        }
    }

    /** Finds the differing rows of a range whose sums differ. */
    private void bisect(Range range, Sum s, Sum c) throws SQLException, InterruptedException {
        pendingRanges--;
        long rows = Math.max(s.count(), c.count());
        if (rows <= settings.leafRows()) {
            leaf(range);
            return;
        }
        bisected++;
        Side splitter = s.count() >= c.count() ? source : copy;
        Side other = splitter == source ? copy : source;
        long step = (rows + settings.fanout() - 1) / settings.fanout();
        List<Object> bounds = splitter.boundaries(range, step);
        if (checkOrder) {
            requireSameOrder(other, reversedPairs(range, bounds));
        }
        Both<Sum[]> sums = both(() -> source.segmentSums(range, bounds), () -> copy.segmentSums(range, bounds));
        ranges += bounds.size() + 1;
        compareParts(range, bounds, List.of(sums.source()), List.of(sums.copy()));
    }

    /** Reads the range's rows on both sides and re-checks the keys that differ. */
    private void leaf(Range range) throws SQLException, InterruptedException {
        Both<List<Row>> rows = both(() -> source.rows(range), () -> copy.rows(range));
        Map<String, Row> copyRowsByKey = new LinkedHashMap<>();
        rows.copy().forEach(r -> copyRowsByKey.put(r.keyText(), r));
        List<Candidate> candidates = new ArrayList<>();
        long now = System.nanoTime();
        for (Row s : rows.source()) {
            Row c = copyRowsByKey.remove(s.keyText());
            if (c == null || c.hash() != s.hash() || !c.values().equals(s.values())) {
                candidates.add(new Candidate(s.keyText(), s, c, now));
            }
        }
        copyRowsByKey.values().forEach(c -> candidates.add(new Candidate(c.keyText(), null, c, now)));
        settler.offer(candidates);
    }

    /**
     * The ranges {@code (b[i+1], b[i]]} for consecutive cut points {@code lo, b1, ..., hi}: where the
     * splitter's order says there are no keys between them in the other direction.
     */
    private static List<Object> reversedPairs(Range range, List<Object> bounds) {
        List<Object> points = new ArrayList<>();
        if (range.lo() != null) {
            points.add(range.lo());
        }
        points.addAll(bounds);
        if (range.hi() != null) {
            points.add(range.hi());
        }
        List<Object> pairs = new ArrayList<>();
        for (int i = 0; i + 1 < points.size(); i++) {
            pairs.add(points.get(i + 1));
            pairs.add(points.get(i));
        }
        return pairs;
    }

    private static void requireSameOrder(Side side, List<Object> reversedPairs) throws SQLException {
        if (reversedPairs.isEmpty() || side.countInRanges(reversedPairs) == 0) {
            return;
        }
        int bad = 0;
        for (int i = 0; i < reversedPairs.size(); i += 2) { // which pair: only on this failure, one query per pair
            if (side.countInRanges(reversedPairs.subList(i, i + 2)) > 0) {
                bad = i;
                break;
            }
        }
        throw new ConfigException("the source and the copy sort key values differently (a case-insensitive or"
                + " language collation on one side?): the " + side.label + " has keys between "
                + reversedPairs.get(bad + 1) + " and " + reversedPairs.get(bad) + ", where the other side's order puts"
                + " none. Give both key columns the same binary order (MariaDB: COLLATE utf8mb4_bin, PostgreSQL:"
                + " COLLATE \"C\") or verify on a numeric key");
    }

    private void progress() {
        Consumer<DiffProgress> listener = settings.progress();
        if (listener == null) {
            return;
        }
        long chunksLeft = estimatedRows < 0 ? 0 : Math.max(0, (estimatedRows - sourceRows) / settings.chunkSize());
        listener.accept(new DiffProgress(sourceRows, estimatedRows, chunksLeft + pendingRanges, findings.differing(),
                Duration.ofNanos(System.nanoTime() - started)));
    }

    private record Both<T>(T source, T copy) {}

    /** Runs {@code onSource} here and {@code onCopy} on the copy's thread, at the same time. */
    private <T> Both<T> both(Callable<T> onSource, Callable<T> onCopy) throws SQLException, InterruptedException {
        Future<T> copied = copyThread.submit(onCopy);
        T fromSource;
        try {
            fromSource = onSource.call();
        } catch (SQLException | RuntimeException e) {
            copied.cancel(false);
            awaitQuietly(copied);
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return new Both<>(fromSource, get(copied));
    }

    private static void awaitQuietly(Future<?> f) {
        try {
            f.get();
        } catch (Exception ignored) {
            // the source's failure is the one reported; this only keeps the copy's connection from being reused mid-query
        }
    }

    private static <T> T get(Future<T> f) throws SQLException, InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException sql) {
                throw sql;
            }
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new EventsyncException("the copy side of the diff failed: " + cause, cause);
        }
    }

    private static Map<String, String> named(List<String> names, Row row) {
        Map<String, String> named = new LinkedHashMap<>();
        if (row != null) {
            for (int i = 0; i < names.size(); i++) {
                named.put(names.get(i), row.values().get(i));
            }
        }
        return named;
    }
}
