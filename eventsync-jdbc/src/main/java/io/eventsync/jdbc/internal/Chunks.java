package io.eventsync.jdbc.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-row statements in a few fixed sizes (64, 16, 4, 1 rows), so that a connection's statement
 * cache holds at most four texts of each statement and the server plans each once.
 */
public final class Chunks {
    private static final int[] SIZES = {64, 16, 4, 1};

    private Chunks() {}

    /** Statement sizes for {@code n} rows that cannot be repeated (inserts): as many of each size as fit. */
    public static List<Integer> exact(int n) {
        List<Integer> sizes = new ArrayList<>();
        int left = n;
        for (int size : SIZES) {
            while (left >= size) {
                sizes.add(size);
                left -= size;
            }
        }
        return sizes;
    }

    /**
     * The size of the next statement for {@code left} rows where repeating a row is harmless (an IN
     * list): the smallest fixed size that takes them all, or the largest.
     */
    public static int padded(int left) {
        for (int i = SIZES.length - 1; i >= 0; i--) {
            if (SIZES[i] >= left) {
                return SIZES[i];
            }
        }
        return SIZES[0];
    }
}
