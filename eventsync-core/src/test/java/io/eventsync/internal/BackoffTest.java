package io.eventsync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final long MS = 1_000_000;
    private static final int[] HUGE_FAILURES = {Integer.MAX_VALUE - 1, Integer.MAX_VALUE};

    /** Draws the largest value allowed, so a jittered delay is its ceiling. */
    private static final RandomGenerator HIGHEST = new RandomGenerator() {
        @Override public long nextLong() { return -1L; }
        @Override public long nextLong(long bound) { return bound - 1; }
    };

    /** Draws zero, so a jittered delay is zero (or the floor). */
    private static final RandomGenerator LOWEST = new RandomGenerator() {
        @Override public long nextLong() { return 0L; }
        @Override public long nextLong(long bound) { return 0L; }
    };

    @Test
    void ceilingsDoubleFromTheInitialDelayAndStopAtTheCap() {
        Backoff backoff = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));
        long[] expectedMillis = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
        for (int n = 1; n <= expectedMillis.length; n++) {
            assertThat(backoff.ceilingNanos(n)).as("ceiling after failure %d", n).isEqualTo(expectedMillis[n - 1] * MS);
            assertThat(backoff.delayNanos(n)).as("without jitter the delay is the ceiling").isEqualTo(expectedMillis[n - 1] * MS);
        }
    }

    @Test
    void aMultiplierOtherThanTwoGrowsByItself() {
        Backoff backoff = Backoff.builder(Duration.ofNanos(1000), Duration.ofNanos(10_000)).multiplier(1.5).build();
        long[] expected = {1000, 1500, 2250, 3375, 5062, 7593, 10_000, 10_000};
        for (int n = 1; n <= expected.length; n++) {
            assertThat(backoff.ceilingNanos(n)).as("ceiling after failure %d", n).isEqualTo(expected[n - 1]);
        }
        Backoff flat = Backoff.builder(Duration.ofMillis(7), Duration.ofSeconds(1)).multiplier(1.0).build();
        assertThat(flat.ceilingNanos(Integer.MAX_VALUE)).as("multiplier 1: a constant delay").isEqualTo(7 * MS);
    }

    @Test
    void aFailureNumberBelowOneCountsAsTheFirst() {
        Backoff backoff = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));
        assertThat(backoff.ceilingNanos(0)).isEqualTo(100 * MS);
        assertThat(backoff.ceilingNanos(Integer.MIN_VALUE)).isEqualTo(100 * MS);
    }

    @Test
    void noFailureNumberOverflowsTheDelayOrMakesItNegative() {
        for (Edge edge : edges()) {
            Backoff backoff = edge.backoff();
            long previous = 0;
            for (int n = 1; n <= 10_000; n++) {
                long ceiling = backoff.ceilingNanos(n);
                assertThat(ceiling).as("%s after failure %d", backoff, n).isBetween(previous, edge.maxNanos());
                previous = ceiling;
            }
            for (int n : HUGE_FAILURES) {
                assertThat(backoff.ceilingNanos(n)).as("%s after failure %d", backoff, n).isEqualTo(edge.maxNanos());
                assertThat(backoff.delayNanos(n)).as("%s after failure %d", backoff, n).isEqualTo(edge.maxNanos());
            }
        }
    }

    @Test
    void jitterAtTheLargestCeilingDoesNotOverflow() {
        Duration longest = Duration.ofNanos(Long.MAX_VALUE);
        assertThat(Backoff.builder(longest, longest).fullJitter(true).random(HIGHEST).build().delayNanos(1))
                .isEqualTo(Long.MAX_VALUE);
        assertThat(Backoff.builder(longest, longest).fullJitter(true).random(LOWEST).build().delayNanos(1)).isZero();
        assertThat(Backoff.builder(longest, longest).fullJitter(true).build().delayNanos(Integer.MAX_VALUE))
                .isNotNegative();
    }

    @Test
    void withJitterEveryDelayLiesBetweenZeroAndTheCeiling() {
        Backoff backoff = Backoff.builder(Duration.ofMillis(100), Duration.ofSeconds(5)).fullJitter(true)
                .random(new SplittableRandom(42)).build();
        Backoff ceilings = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));
        for (int n = 1; n <= 200; n++) {
            for (int draw = 0; draw < 50; draw++) {
                assertThat(backoff.delayNanos(n)).as("failure %d", n).isBetween(0L, ceilings.ceilingNanos(n));
            }
        }
        for (int n : HUGE_FAILURES) {
            assertThat(backoff.delayNanos(n)).as("failure %d", n).isBetween(0L, 5_000 * MS);
        }
    }

    @Test
    void jitterReachesBothEndsOfItsRange() {
        Backoff.Builder builder = Backoff.builder(Duration.ofMillis(100), Duration.ofSeconds(5)).fullJitter(true);
        assertThat(builder.random(HIGHEST).build().delayNanos(3)).isEqualTo(400 * MS);
        assertThat(builder.random(LOWEST).build().delayNanos(3)).isZero();
    }

    @Test
    void aFloorRaisesTheDelayEvenPastTheCap() {
        Backoff exact = Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5));
        assertThat(exact.delayNanos(1, 30 * MS)).as("floor below the ceiling").isEqualTo(100 * MS);
        assertThat(exact.delayNanos(1, 300 * MS)).as("floor above the ceiling").isEqualTo(300 * MS);
        assertThat(exact.delayNanos(50, 60_000 * MS)).as("floor above the cap: a server's Retry-After").isEqualTo(60_000 * MS);
        assertThat(exact.delayNanos(1, -5)).as("a negative floor is no floor").isEqualTo(100 * MS);

        Backoff jittered = Backoff.builder(Duration.ofMillis(100), Duration.ofSeconds(5)).fullJitter(true)
                .random(new SplittableRandom(7)).build();
        for (int draw = 0; draw < 1000; draw++) {
            assertThat(jittered.delayNanos(4, 300 * MS)).isBetween(300 * MS, 800 * MS);
        }
        assertThat(Backoff.builder(Duration.ofMillis(100), Duration.ofSeconds(5)).fullJitter(true).random(LOWEST)
                .build().delayNanos(4, 300 * MS)).isEqualTo(300 * MS);
    }

    @Test
    void aZeroInitialDelayStaysZero() {
        Backoff backoff = Backoff.builder(Duration.ZERO, Duration.ofSeconds(30)).fullJitter(true).build();
        assertThat(backoff.ceilingNanos(1)).isZero();
        assertThat(backoff.ceilingNanos(Integer.MAX_VALUE)).isZero();
        assertThat(backoff.delayNanos(Integer.MAX_VALUE)).isZero();
    }

    @Test
    void anInitialDelayAboveTheCapIsCapped() {
        Backoff backoff = Backoff.doubling(Duration.ofSeconds(10), Duration.ofSeconds(1));
        assertThat(backoff.ceilingNanos(1)).isEqualTo(1_000 * MS);
        assertThat(backoff.ceilingNanos(Integer.MAX_VALUE)).isEqualTo(1_000 * MS);
    }

    @Test
    void aSequenceCountsFailuresAndStartsOverOnReset() {
        Backoff.Sequence sequence = Backoff.doubling(Duration.ofMillis(100), Duration.ofMillis(350)).sequence();
        assertThat(List.of(sequence.next(), sequence.next(), sequence.next(), sequence.next()))
                .containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(350), Duration.ofMillis(350));
        assertThat(sequence.failures()).isEqualTo(4);

        sequence.reset();

        assertThat(sequence.failures()).isZero();
        assertThat(sequence.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(sequence.next(Duration.ofSeconds(2))).as("a floor past the cap").isEqualTo(Duration.ofSeconds(2));
        assertThat(sequence.failures()).isEqualTo(2);
        assertThat(sequence.next(ChronoUnit.FOREVER.getDuration())).as("a floor beyond nanoseconds saturates")
                .isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
    }

    @Test
    void sequencesOfOneBackoffAreIndependent() {
        Backoff backoff = Backoff.doubling(Duration.ofMillis(1), Duration.ofSeconds(1));
        Backoff.Sequence a = backoff.sequence();
        Backoff.Sequence b = backoff.sequence();
        a.next();
        a.next();
        assertThat(b.next()).isEqualTo(Duration.ofMillis(1));
        assertThat(a.next()).isEqualTo(Duration.ofMillis(4));
    }

    @Test
    void durationsBeyondNanosecondsSaturateInsteadOfThrowing() {
        Backoff backoff = Backoff.doubling(Duration.ofDays(1), ChronoUnit.FOREVER.getDuration());
        assertThat(backoff.ceilingNanos(Integer.MAX_VALUE)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void buildRejectsNegativeDelaysAndMultipliersBelowOneNamingTheValue() {
        assertThatThrownBy(() -> Backoff.doubling(Duration.ofMillis(-1), Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("initial").hasMessageContaining("PT-0.001S");
        assertThatThrownBy(() -> Backoff.doubling(Duration.ZERO, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max");
        assertThatThrownBy(() -> Backoff.doubling(null, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        for (double bad : new double[] {0.5, -2, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThatThrownBy(() -> Backoff.builder(Duration.ZERO, Duration.ZERO).multiplier(bad).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiplier")
                    .hasMessageContaining(String.valueOf(bad));
        }
    }

    /** A backoff at an edge (tiny, huge initial delays, huge multipliers, the largest cap) and its cap. */
    private record Edge(Backoff backoff, long maxNanos) {}

    private static List<Edge> edges() {
        Duration longest = Duration.ofNanos(Long.MAX_VALUE);
        return List.of(
                new Edge(Backoff.doubling(Duration.ofNanos(1), Duration.ofNanos(2)), 2),
                new Edge(Backoff.doubling(Duration.ofMillis(100), Duration.ofSeconds(5)), 5_000 * MS),
                new Edge(Backoff.doubling(Duration.ofNanos(1), longest), Long.MAX_VALUE),
                new Edge(Backoff.doubling(longest.dividedBy(3), longest), Long.MAX_VALUE),
                new Edge(Backoff.builder(Duration.ofMillis(50), Duration.ofSeconds(30)).multiplier(1.0000001).build(),
                        30_000 * MS),
                new Edge(Backoff.builder(Duration.ofNanos(3), longest).multiplier(1.5).build(), Long.MAX_VALUE),
                new Edge(Backoff.builder(Duration.ofNanos(1), longest).multiplier(Double.MAX_VALUE).build(), Long.MAX_VALUE),
                new Edge(Backoff.builder(Duration.ofSeconds(1), Duration.ofDays(1)).multiplier(1e300).fullJitter(true)
                        .random(HIGHEST).build(), Duration.ofDays(1).toNanos()));
    }
}
