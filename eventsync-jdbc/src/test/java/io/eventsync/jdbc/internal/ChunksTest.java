package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChunksTest {
    private static final Set<Integer> SIZES = Set.of(64, 16, 4, 1);

    @Test
    void exactSizesCoverEveryRowOnceWithFewStatements() {
        for (int n = 0; n <= 1000; n++) {
            List<Integer> sizes = Chunks.exact(n);
            assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).as("rows of %d", n).isEqualTo(n);
            assertThat(SIZES).containsAll(sizes);
            assertThat(sizes).as("largest first").isSortedAccordingTo((a, b) -> b - a);
            assertThat(sizes.size()).as("statements for %d", n).isLessThanOrEqualTo(n / 64 + 9);
        }
    }

    @Test
    void paddedTakesWhatIsLeftInOneStatementUpToTheLargestSize() {
        for (int left = 1; left <= 200; left++) {
            int size = Chunks.padded(left);
            assertThat(SIZES).contains(size);
            assertThat(size).isGreaterThanOrEqualTo(Math.min(left, 64));
            assertThat(size).as("no larger than needed").isLessThanOrEqualTo(left <= 1 ? 1 : left <= 4 ? 4 : left <= 16 ? 16 : 64);
        }
    }
}
