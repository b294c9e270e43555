package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class FreshnessHistogramTest {

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

    @Property
    void everyValueFallsInABucketWhoseUpperBoundIsWithinTwoPercent(@ForAll @LongRange(min = 0, max = 1L << 45) long micros) {
        long upper = FreshnessHistogram.upperBound(FreshnessHistogram.index(micros));
        assertThat(upper).isGreaterThanOrEqualTo(micros);
        assertThat(upper - micros).isLessThanOrEqualTo(Math.max(1, micros / 50));
    }
}
