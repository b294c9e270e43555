package io.eventsync.handler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    @Test
    void theDefaultCeilingsDoubleFrom50MillisecondsToThirtySeconds() {
        RetryPolicy policy = RetryPolicy.defaults();
        assertThat(policy.maxAttempts()).isEqualTo(10);
        assertThat(policy.jitter()).isTrue();
        assertThat(policy.ceiling(1)).isEqualTo(Duration.ofMillis(50));
        assertThat(policy.ceiling(2)).isEqualTo(Duration.ofMillis(100));
        assertThat(policy.ceiling(10)).isEqualTo(Duration.ofMillis(50 * 512));
        assertThat(policy.ceiling(11)).isEqualTo(Duration.ofSeconds(30));
        assertThat(policy.ceiling(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(30));
        assertThat(policy.ceiling(0)).as("before the first attempt: the initial backoff").isEqualTo(Duration.ofMillis(50));
    }

    @Test
    void aJitteredBackoffLiesBetweenZeroAndItsCeiling() {
        RetryPolicy policy = RetryPolicy.defaults();
        for (int attempt = 1; attempt <= 20; attempt++) {
            for (int draw = 0; draw < 100; draw++) {
                assertThat(policy.backoff(attempt)).isBetween(Duration.ZERO, policy.ceiling(attempt));
            }
        }
    }

    @Test
    void withoutJitterTheBackoffIsTheCeilingGrowingByTheMultiplier() {
        RetryPolicy policy = RetryPolicy.custom().initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofSeconds(1))
                .multiplier(3).jitter(false).build();
        assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(10));
        assertThat(policy.backoff(3)).isEqualTo(Duration.ofMillis(90));
        assertThat(policy.backoff(5)).isEqualTo(Duration.ofMillis(810));
        assertThat(policy.backoff(6)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aZeroInitialBackoffRetriesAtOnce() {
        RetryPolicy policy = RetryPolicy.custom().initialBackoff(Duration.ZERO).build();
        assertThat(policy.backoff(1)).isZero();
        assertThat(policy.backoff(Integer.MAX_VALUE)).isZero();
    }

    @Test
    void buildNamesTheBadSetting() {
        assertThatThrownBy(() -> RetryPolicy.custom().maxBackoff(Duration.ofMillis(10)).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("maxBackoff");
        assertThatThrownBy(() -> RetryPolicy.custom().multiplier(0.5).build())
                .isInstanceOf(ConfigException.class).hasMessageContaining("multiplier").hasMessageContaining("0.5");
    }
}
