package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.quicktheories.WithQuickTheories;

/**
 * The bucket property runs on QuickTheories: a failure prints the shrunk value and the seed, and
 * {@code -DQT_SEED=<seed>} replays that run.
 */
class FreshnessHistogramTest implements WithQuickTheories {
    private static final int TRIES = 1000;

    @Test
    void percentilesFollowTheRecordedDistribution() {
        FreshnessHistogram histogram = new FreshnessHistogram();
        for (int ms = 1; ms <= 100; ms++) {
            histogram.record(Duration.ofMillis(ms));
        }

        assertThat(histogram.count()).isEqualTo(100);
        assertThat(histogram.percentile(50).toMillis()).isCloseTo(50, within(1L));
        assertThat(histogram.percentile(99).toMillis()).isCloseTo(99, within(2L));
        assertThat(histogram.max()).isEqualTo(Duration.ofMillis(100));
        assertThat(histogram.percentile(100)).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void emptyHistogramReportsZero() {
        FreshnessHistogram histogram = new FreshnessHistogram();
        assertThat(histogram.snapshot()).isEqualTo(new FreshnessHistogram.Snapshot(0, Duration.ZERO,
                Duration.ZERO, Duration.ZERO, Duration.ZERO));
    }

    @Test
    void everyValueFallsInABucketWhoseUpperBoundIsWithinTwoPercent() {
        AtomicInteger checked = new AtomicInteger();
        // QuickTheories skips a value it has already tried, so ask for a margin over the tries we count.
        qt().withExamples(TRIES + TRIES / 5).forAll(longs().between(0, 1L << 45)).checkAssert(micros -> {
            checked.incrementAndGet();
            long upper = FreshnessHistogram.upperBound(FreshnessHistogram.index(micros));
            assertThat(upper).isGreaterThanOrEqualTo(micros);
            assertThat(upper - micros).isLessThanOrEqualTo(Math.max(1, micros / 50));
        });
        assertThat(checked).as("distinct values tried").hasValueGreaterThanOrEqualTo(TRIES);
    }
}
