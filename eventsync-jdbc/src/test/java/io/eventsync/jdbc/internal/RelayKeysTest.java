package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RelayKeysTest {
    private static final long MS = 1_000_000;

    @Test
    void aFailingKeyWaitsDoublingUpToTheMaximumAndIsFreeOnceSent() {
        RelayKeys keys = new RelayKeys(Duration.ofMillis(100), Duration.ofMillis(350));
        long now = 0;
        long[] expected = {100, 200, 350, 350};
        for (long delay : expected) {
            keys.failed("k", "refused", now);
            assertThat(keys.nanosUntilNextRetry(now)).isEqualTo(delay * MS);
            assertThat(keys.waiting("k", now + delay * MS - 1)).isTrue();
            assertThat(keys.waiting("k", now + delay * MS)).isFalse();
        }
        assertThat(keys.failure("k").attempts()).isEqualTo(4);
        assertThat(keys.describe(now)).contains("key k").contains("failed 4 time(s)").contains("refused");
        keys.clear("k");
        assertThat(keys.failingCount()).isZero();
        assertThat(keys.nanosUntilNextRetry(now)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void manyFailuresInARowNeverOverflowTheDelay() {
        RelayKeys keys = new RelayKeys(Duration.ofMillis(100), Duration.ofSeconds(5));
        for (int i = 0; i < 200; i++) {
            keys.failed("k", "down", 0);
        }
        assertThat(keys.nanosUntilNextRetry(0)).isEqualTo(5_000 * MS);
    }

    @Test
    void theReadLeavesOutWaitingAndInFlightKeysPaddedToAPowerOfTwo() {
        RelayKeys keys = new RelayKeys(Duration.ofMillis(100), Duration.ofSeconds(5));
        assertThat(keys.excluded(Set.of(), 0)).isEmpty();
        keys.failed("a", "x", 0);
        keys.failed("b", "x", 0);
        assertThat(keys.excluded(Set.of("c"), 0)).hasSize(4).containsOnly("a", "b", "c");
        assertThat(keys.excluded(Set.of(), 100 * MS)).as("due again: read").isEmpty();
        for (int i = 0; i < 1000; i++) {
            keys.failed("k" + i, "x", 0);
        }
        assertThat(keys.excluded(Set.of(), 0)).hasSize(RelayKeys.MAX_EXCLUDED_IN_SQL);
    }

    @Test
    void aKeyDueAgainWithNoRowLeftIsForgottenAndDoesNotKeepTheRelayAwake() {
        RelayKeys keys = new RelayKeys(Duration.ofMillis(100), Duration.ofSeconds(5));
        keys.failed("gone", "x", 0);
        keys.failed("later", "x", 0);
        keys.failed("later", "x", 0); // waits 200 ms
        assertThat(keys.nanosUntilNextRetry(150 * MS)).as("only keys still waiting count").isEqualTo(50 * MS);
        keys.forgetDueKeysWithout(Set.of(), 150 * MS);
        assertThat(keys.failure("gone")).isNull();
        assertThat(keys.failure("later")).isNotNull();
        keys.forgetDueKeysWithout(Set.of("later"), 300 * MS);
        assertThat(keys.failingCount()).isEqualTo(1);
    }
}
