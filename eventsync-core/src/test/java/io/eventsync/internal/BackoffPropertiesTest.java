package io.eventsync.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.quicktheories.WithQuickTheories;
import org.quicktheories.core.Gen;

/**
 * Backoff properties on QuickTheories, over random initial delays, caps, multipliers and failure
 * numbers, against a model in exact arithmetic. A failure prints the shrunk case and the seed;
 * {@code -DQT_SEED=<seed>} replays that run.
 */
class BackoffPropertiesTest implements WithQuickTheories {
    private static final int TRIES = 2_000;
    /** Up to here the model computes {@code initial * multiplier^(n-1)} exactly. */
    private static final int MODELLED_FAILURES = 64;
    /** Math.pow is within one ulp; with the product, a ceiling is within a few ulps of the exact one. */
    private static final double RELATIVE_ERROR = 1e-12;
    /** Jittered delays drawn per case. */
    private static final int DRAWS = 20;
    private static final BigInteger MAX_EXACT_DOUBLE = BigInteger.ONE.shiftLeft(53);

    private final AtomicInteger checked = new AtomicInteger();

    /** A case: the backoff's settings, a failure number, a floor and a seed for the jitter. */
    record Case(long initialNanos, long maxNanos, double multiplier, int failure, boolean jitter, long floorNanos,
                long seed) {
        Backoff backoff() {
            return Backoff.builder(Duration.ofNanos(initialNanos), Duration.ofNanos(maxNanos)).multiplier(multiplier)
                    .fullJitter(jitter).random(new SplittableRandom(seed)).build();
        }
    }

    @Test
    void theCeilingIsTheCappedExponentialForEveryCase() {
        qt().withExamples(TRIES + TRIES / 5).forAll(cases()).checkAssert(c -> {
            checked.incrementAndGet();
            Backoff backoff = c.backoff();
            long ceiling = backoff.ceilingNanos(c.failure());

            assertThat(ceiling).as("between the first delay and the cap").isBetween(Math.min(c.initialNanos(), c.maxNanos()), c.maxNanos());
            if (c.failure() < Integer.MAX_VALUE) {
                assertThat(backoff.ceilingNanos(c.failure() + 1)).as("never shrinks").isGreaterThanOrEqualTo(ceiling);
            }
            if (c.failure() <= MODELLED_FAILURES) {
                assertMatchesModel(c, ceiling);
            }
        });
        assertThat(checked).as("distinct cases checked").hasValueGreaterThanOrEqualTo(TRIES);
    }

    @Test
    void theDelayIsTheCeilingOrWithJitterWithinTheFloorAndTheCeiling() {
        qt().withExamples(TRIES + TRIES / 5).forAll(cases()).checkAssert(c -> {
            checked.incrementAndGet();
            Backoff backoff = c.backoff();
            long ceiling = backoff.ceilingNanos(c.failure());
            long floor = Math.max(0, c.floorNanos());

            for (int draw = 0; draw < DRAWS; draw++) {
                long delay = backoff.delayNanos(c.failure(), c.floorNanos());

                if (c.jitter()) {
                    assertThat(delay).isBetween(floor, Math.max(floor, ceiling));
                } else {
                    assertThat(delay).isEqualTo(Math.max(floor, ceiling));
                }
            }
        });
        assertThat(checked).as("distinct cases checked").hasValueGreaterThanOrEqualTo(TRIES);
    }

    /** {@code min(max, floor(initial * multiplier^(n-1)))} exactly, to within rounding of the double power. */
    private static void assertMatchesModel(Case c, long ceiling) {
        BigDecimal exact = BigDecimal.valueOf(c.initialNanos()).multiply(new BigDecimal(c.multiplier()).pow(c.failure() - 1));
        BigInteger expected = exact.toBigInteger().min(BigInteger.valueOf(c.maxNanos()));
        boolean exactInDoubles = c.multiplier() == 2.0 && BigInteger.valueOf(c.initialNanos()).compareTo(MAX_EXACT_DOUBLE) < 0;
        if (exactInDoubles) {
            assertThat(ceiling).as("doubling is exact").isEqualTo(expected.longValueExact());
        } else {
            double tolerance = expected.doubleValue() * RELATIVE_ERROR + 1;
            assertThat((double) ceiling).as("model %s", expected).isCloseTo(expected.doubleValue(), offset(tolerance));
        }
    }

    private Gen<Case> cases() {
        // Tiny delays (where a jitter off by one shows), realistic ones up to 10 s, and any long.
        Gen<Long> nanos = longs().between(0, 8).mix(longs().between(0, 10_000_000_000L), 70)
                .mix(longs().between(0, Long.MAX_VALUE), 25);
        Gen<Double> multipliers = arbitrary().pick(2.0, 1.0, 1.5).mix(doubles().between(1.0, 10.0), 40)
                .mix(doubles().between(1.0, 1e300), 10);
        Gen<Integer> failures = integers().between(1, MODELLED_FAILURES).mix(integers().between(1, Integer.MAX_VALUE), 30);
        Gen<Long> floors = arbitrary().pick(0L, -1L).mix(longs().between(-1_000, Long.MAX_VALUE), 50);
        Gen<Case> settings = nanos.zip(nanos, multipliers, failures,
                (initial, max, multiplier, failure) -> new Case(initial, max, multiplier, failure, false, 0, 0));
        return settings.zip(booleans().all(), floors, longs().all(),
                (c, jitter, floor, seed) -> new Case(c.initialNanos(), c.maxNanos(), c.multiplier(), c.failure(), jitter, floor, seed));
    }
}
