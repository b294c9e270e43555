package io.eventsync.cli.demo;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Picks order keys with a Zipf-like skew: key {@code i} (0-based) has weight {@code 1/(i+1)^skew},
 * so skew 0 is uniform and skew 1 makes the first keys hot. Immutable and thread-safe.
 */
final class KeyChooser {
    private final double[] cumulative;

    KeyChooser(int keys, double skew) {
        cumulative = new double[keys];
        double sum = 0;
        for (int i = 0; i < keys; i++) {
            sum += 1.0 / Math.pow(i + 1, skew);
            cumulative[i] = sum;
        }
        for (int i = 0; i < keys; i++) {
            cumulative[i] /= sum;
        }
    }

    int next(RandomGenerator random) {
        int at = Arrays.binarySearch(cumulative, random.nextDouble());
        int index = at >= 0 ? at : -at - 1;
        return Math.min(index, cumulative.length - 1);
    }

    static String key(int index) {
        String digits = Integer.toString(index);
        return "order-" + "000000".substring(Math.min(6, digits.length())) + digits;
    }
}
