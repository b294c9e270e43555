package io.eventsync.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.ConfigException;
import org.junit.jupiter.api.Test;

class FaultPlanTest {

    @Test
    void noValueMeansTheDefaultRates() {
        assertThat(FaultPlan.parse(null)).isEqualTo(FaultPlan.DEFAULT);
        assertThat(FaultPlan.parse("default")).isEqualTo(FaultPlan.DEFAULT);
        assertThat(FaultPlan.parse("none").any()).isFalse();
    }

    @Test
    void namedRatesOverrideTheDefaultsAndTheRestKeepThem() {
        FaultPlan plan = FaultPlan.parse("handler-error:0.1, invalid:0");

        assertThat(plan.handlerError()).isEqualTo(0.1);
        assertThat(plan.invalid()).isZero();
        assertThat(plan.hang()).isEqualTo(FaultPlan.DEFAULT.hang());
    }

    @Test
    void badSpecsNameTheFault() {
        assertThatThrownBy(() -> FaultPlan.parse("gremlins:0.1")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("gremlins");
        assertThatThrownBy(() -> FaultPlan.parse("hang:x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("hang");
        assertThatThrownBy(() -> FaultPlan.parse("hang")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("needs a rate");
    }

    @Test
    void rollsAreReproducibleAndSpreadOverTheUnitInterval() {
        assertThat(Faults.roll("id-1", "billing")).isEqualTo(Faults.roll("id-1", "billing"));
        int below = 0;
        for (int i = 0; i < 10_000; i++) {
            double r = Faults.roll("event-" + i, "billing");
            assertThat(r).isBetween(0.0, 1.0);
            if (r < 0.1) {
                below++;
            }
        }
        assertThat(below).isBetween(800, 1200);
    }
}
