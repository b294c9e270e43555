package io.eventsync.cli.demo;

import io.eventsync.ConfigException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What the demo runs: where its databases go, the workload and the faults.
 *
 * @param dir      directory for the databases and the log (created)
 * @param count    events to write (ignored when {@code duration} is set)
 * @param duration how long to write, or null to write {@code count} events
 * @param rate     events per second over all writers, 0 for as fast as possible
 * @param keys     number of distinct orders (event keys)
 * @param skew     Zipf exponent of key popularity, 0 = uniform
 * @param writers  concurrent writer threads at the source
 * @param faults   injected faults
 * @param catchUp  how long to wait after the last write for every copy to catch up
 * @param seed     random seed of the workload
 * @param infrastructure the embedded default or the real broker and database to run on
 */
public record DemoSettings(Path dir, long count, Duration duration, double rate, int keys, double skew,
                           int writers, FaultPlan faults, Duration catchUp, long seed, Infrastructure infrastructure) {
    public DemoSettings {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(faults, "faults");
        Objects.requireNonNull(catchUp, "catchUp");
        Objects.requireNonNull(infrastructure, "infrastructure");
        if (duration == null && count < 1) {
            throw new ConfigException("--count must be >= 1, but was " + count);
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new ConfigException("--duration must be > 0, but was " + duration);
        }
        if (!(rate >= 0) || Double.isInfinite(rate)) {
            throw new ConfigException("--rate must be >= 0 (0 = as fast as possible), but was " + rate);
        }
        if (keys < 1 || keys > 10_000_000) {
            throw new ConfigException("--keys must be 1..10000000, but was " + keys);
        }
        if (!(skew >= 0 && skew <= 5)) {
            throw new ConfigException("--skew must be between 0 (uniform) and 5, but was " + skew);
        }
        if (writers < 1 || writers > 256) {
            throw new ConfigException("--writers must be 1..256, but was " + writers);
        }
    }
}
