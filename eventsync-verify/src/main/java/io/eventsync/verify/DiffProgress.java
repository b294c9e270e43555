package io.eventsync.verify;

import java.time.Duration;

/**
 * How far a running diff has come, reported after each range.
 *
 * @param sourceRows      source rows checked so far (by checksum or row by row)
 * @param estimatedRows   the source database's estimate of the projection's rows, or -1 when unknown
 * @param rangesLeft      differing ranges still to split, plus the chunks estimated to remain
 * @param differences     differing keys confirmed so far
 * @param elapsed         since the diff started
 */
public record DiffProgress(long sourceRows, long estimatedRows, long rangesLeft, long differences, Duration elapsed) {

    /** Source rows checked per second so far. */
    public double rowsPerSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds <= 0 ? 0 : sourceRows / seconds;
    }

    /** 0..1 of the estimated rows, or -1 when there is no estimate. */
    public double fraction() {
        return estimatedRows <= 0 ? -1 : Math.min(1.0, (double) sourceRows / estimatedRows);
    }
}
