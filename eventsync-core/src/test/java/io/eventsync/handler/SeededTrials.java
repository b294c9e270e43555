package io.eventsync.handler;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Checks a property over random cases drawn from seeds. It is here for properties that QuickTheories
 * fits badly: each case of a dispatcher property starts a dispatcher with threads of its own, so a case
 * is a plain value drawn from a seed, and the interleaving of the dispatcher's threads is not part of it.
 *
 * <p>On a failure it shrinks the case greedily (runs the simpler cases that {@code simpler} offers,
 * keeps the first that still fails, starts again from it) and throws an {@link AssertionError} that
 * names the seed, the case drawn from it, the smallest failing case found and that case's failure.
 * {@code -Deventsync.seed=<seed>} replays one case: only the case drawn from that seed runs (and is
 * shrunk again if it fails). A failure of a concurrent property may need a particular interleaving,
 * so a simpler case counts as passing only after it passed {@value #RUNS_PER_SIMPLER_CASE} runs; even
 * so, the smallest case is the smallest one that failed, not one that fails every time.
 */
final class SeededTrials<C> {
    /** The system property that replays one case. */
    static final String SEED_PROPERTY = "eventsync.seed";
    static final int RUNS_PER_SIMPLER_CASE = 3;
    private static final int MAX_SHRINK_RUNS = 300;
    private static final Duration MAX_SHRINK_TIME = Duration.ofSeconds(90);

    /** The property: returns normally when the case holds, throws when it does not. */
    interface Property<C> {
        void check(C testCase) throws Exception;
    }

    private final int tries;
    private final Function<SplittableRandom, C> draw;
    private final Function<C, List<C>> simpler;

    /**
     * @param tries   cases to check (unless a seed is replayed)
     * @param draw    draws one case from a random generator seeded for that case
     * @param simpler the cases one step simpler than a case, most promising first
     */
    SeededTrials(int tries, Function<SplittableRandom, C> draw, Function<C, List<C>> simpler) {
        this.tries = tries;
        this.draw = draw;
        this.simpler = simpler;
    }

    /** Checks the property on every case; throws naming the seed and the smallest failing case. */
    void check(Property<C> property) {
        String replay = System.getProperty(SEED_PROPERTY);
        if (replay != null) {
            long seed;
            try {
                seed = Long.parseLong(replay.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-D" + SEED_PROPERTY + " must be a seed printed by a failed run"
                        + " (a long), was '" + replay + "'", e);
            }
            checkCase(seed, property, 1, 1);
            return;
        }
        SplittableRandom seeds = new SplittableRandom();
        for (int n = 1; n <= tries; n++) {
            checkCase(seeds.nextLong(), property, n, tries);
        }
    }

    private void checkCase(long seed, Property<C> property, int n, int of) {
        C drawn = draw.apply(new SplittableRandom(seed));
        Throwable failure = failureOf(property, drawn);
        if (failure == null) {
            return;
        }
        C smallest = drawn;
        Throwable smallestFailure = failure;
        int runs = 0;
        int shrinks = 0;
        long deadline = System.nanoTime() + MAX_SHRINK_TIME.toNanos();
        boolean shrunk = true;
        while (shrunk && runs < MAX_SHRINK_RUNS && System.nanoTime() < deadline) {
            shrunk = false;
            for (C candidate : simpler.apply(smallest)) {
                if (runs >= MAX_SHRINK_RUNS || System.nanoTime() >= deadline) {
                    break;
                }
                Throwable candidateFailure = null;
                for (int run = 0; run < RUNS_PER_SIMPLER_CASE && candidateFailure == null; run++) {
                    runs++;
                    candidateFailure = failureOf(property, candidate);
                }
                if (candidateFailure != null) {
                    smallest = candidate;
                    smallestFailure = candidateFailure;
                    shrinks++;
                    shrunk = true;
                    break;
                }
            }
        }
        AssertionError error = new AssertionError(String.format(
                "property failed on case %d of %d, seed %d (replay it with -D%s=%d)%n"
                        + "case drawn from the seed: %s%n"
                        + "smallest failing case (%d of %d shrink runs failed): %s%n"
                        + "failure of the smallest case: %s",
                n, of, seed, SEED_PROPERTY, seed, drawn, shrinks, runs, smallest, smallestFailure), smallestFailure);
        if (smallestFailure != failure) {
            error.addSuppressed(failure);
        }
        throw error;
    }

    private static <C> Throwable failureOf(Property<C> property, C testCase) {
        try {
            property.check(testCase);
            return null;
        } catch (VirtualMachineError e) {
            throw e;
        } catch (InterruptedException e) {
            // The test itself is being stopped: no case after this one could run, so stop here.
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while checking " + testCase, e);
        } catch (Throwable t) {
            return t;
        }
    }
}
