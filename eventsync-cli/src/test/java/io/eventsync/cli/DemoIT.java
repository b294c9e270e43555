package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo, run from the packaged jar on the embedded default (H2 files, embedded log). */
class DemoIT {

    @TempDir
    Path work;

    @org.junit.jupiter.api.AfterEach
    void endLeftoverProcesses() throws InterruptedException {
        Jar.killLeftovers();
    }

    @Test
    void demoOnTheEmbeddedDefaultEndsWithEveryCopyMatchingItsSource() throws Exception {
        Jar.Result result = Jar.run(work, "demo", "--count", "400", "--keys", "60", "--dir", "data", "--json");

        assertThat(result.exitCode()).as("exit code; stderr: %s", result.stderr()).isZero();
        Struct report = result.json();
        assertThat(report.getFieldsOrThrow("result").getStringValue()).isEqualTo("MATCH");
        Struct workload = report.getFieldsOrThrow("workload").getStructValue();
        assertThat(workload.getFieldsOrThrow("events_written").getNumberValue()).isEqualTo(400);
        for (Value copy : report.getFieldsOrThrow("copies").getListValue().getValuesList()) {
            Struct c = copy.getStructValue();
            Struct consistency = c.getFieldsOrThrow("consistency").getStructValue();
            assertThat(consistency.getFieldsOrThrow("verdict").getStringValue()).as(c.toString()).isEqualTo("MATCH");
            assertThat(c.getFieldsOrThrow("applied").getNumberValue()).isEqualTo(400);
            assertThat(c.getFieldsOrThrow("dead_letters").getStructValue().getFieldsOrThrow("count").getNumberValue())
                    .isZero();
        }
        assertThat(work.resolve("data").resolve("orders.mv.db")).exists();
        assertThat(work.resolve("data").resolve("billing.mv.db")).exists();

        String orders = "jdbc:h2:file:" + work.resolve("data").resolve("orders").toAbsolutePath();
        String shipping = "jdbc:h2:file:" + work.resolve("data").resolve("shipping").toAbsolutePath();
        Jar.Result same = Jar.run(work, "verify", "--source-url", orders, "--source-user", "sa", "--copy-url", shipping,
                "--copy-user", "sa", "--table", "orders=shipping_orders", "--key", "order_id",
                "--columns", "status,shipping_address,carrier,tracking_number,version");
        assertThat(same.exitCode()).as(same.stderr()).isZero();
        assertThat(same.stdout()).contains("MATCH");
        Jar.Result different = Jar.run(work, "verify", "--source-url", orders, "--source-user", "sa", "--copy-url",
                shipping, "--copy-user", "sa", "--table", "orders=shipping_orders", "--key", "order_id",
                "--columns", "status,version=carrier", "--json");
        assertThat(different.exitCode()).isEqualTo(1);
        assertThat(different.json().getFieldsOrThrow("verdict").getStringValue()).isEqualTo("DIFF");
    }

    @Test
    void demoWithFaultsStillMatchesAndInvalidEventsEndOnlyInTheDeadLetters() throws Exception {
        Jar.Result result = Jar.run(work, "demo", "--count", "400", "--keys", "60", "--dir", "data", "--json",
                "--faults=handler-error:0.05,hang:0.005,abandon:0.005,duplicate:0.05,invalid:0.03,restart:0.005");

        assertThat(result.exitCode()).as("exit code; stderr: %s", result.stderr()).isZero();
        Struct report = result.json();
        assertThat(report.getFieldsOrThrow("result").getStringValue()).isEqualTo("MATCH");
        double invalid = report.getFieldsOrThrow("injected").getStructValue()
                .getFieldsOrThrow("invalid_events").getNumberValue();
        assertThat(invalid).as("the workload injected invalid events").isPositive();
        for (Value copy : report.getFieldsOrThrow("copies").getListValue().getValuesList()) {
            Struct c = copy.getStructValue();
            Struct dead = c.getFieldsOrThrow("dead_letters").getStructValue();
            assertThat(c.getFieldsOrThrow("consistency").getStructValue().getFieldsOrThrow("verdict").getStringValue())
                    .isEqualTo("MATCH");
            assertThat(dead.getFieldsOrThrow("invalid_events_dead_lettered").getNumberValue()).isEqualTo(invalid);
            assertThat(dead.getFieldsOrThrow("invalid_events_applied").getNumberValue()).isZero();
            assertThat(dead.getFieldsOrThrow("invalid_events_only_in_dead_letters").getBoolValue()).isTrue();
            assertThat(c.getFieldsOrThrow("retries").getNumberValue()).as("handler errors were retried").isPositive();
        }
    }

    @Test
    void anUnknownOptionIsBadUsage() throws Exception {
        Jar.Result result = Jar.run(work, "demo", "--no-such-option");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("--no-such-option").contains("eventsync demo --help");
    }

    @Test
    void anInvalidFaultRateIsAConfigurationError() throws Exception {
        Jar.Result result = Jar.run(work, "demo", "--faults=hang:2", "--dir", "data");

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).contains("hang").contains("between 0 and 1");
    }
}
