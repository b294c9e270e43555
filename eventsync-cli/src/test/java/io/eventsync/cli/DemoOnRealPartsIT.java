package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo on real parts: PostgreSQL (127.0.0.1:5432, user postgres, database test) and a real Kafka
 * broker that the command starts in a child JVM. The demo's schemas are dropped afterwards.
 */
class DemoOnRealPartsIT {

    @TempDir
    Path work;

    @org.junit.jupiter.api.AfterEach
    void endLeftoverProcesses() throws InterruptedException {
        Jar.killLeftovers();
    }

    @Test
    void demoOnPostgresAndKafkaWithFaultsEndsWithEveryCopyMatching() throws Exception {
        Jar.Result result = Jar.run(work, "demo", "--db", "postgres", "--broker", "kafka", "--count", "300",
                "--keys", "50", "--dir", "data", "--json", "--faults=handler-error:0.05,duplicate:0.05,invalid:0.02");
        try {
            assertThat(result.exitCode()).as("exit code; stderr: %s", result.stderr()).isZero();
            Struct report = result.json();
            assertThat(report.getFieldsOrThrow("transport").getStringValue()).isEqualTo("kafka");
            assertThat(report.getFieldsOrThrow("result").getStringValue()).isEqualTo("MATCH");
            for (Value copy : report.getFieldsOrThrow("copies").getListValue().getValuesList()) {
                Struct dead = copy.getStructValue().getFieldsOrThrow("dead_letters").getStructValue();
                assertThat(dead.getFieldsOrThrow("invalid_events_only_in_dead_letters").getBoolValue()).isTrue();
            }
        } finally {
            dropSchemas(result);
        }
    }

    private static void dropSchemas(Jar.Result result) throws Exception {
        if (!result.stdout().contains("currentSchema=")) {
            return;
        }
        Struct databases = result.json().getFieldsOrThrow("databases").getStructValue();
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/test", "postgres", "");
             Statement st = c.createStatement()) {
            for (Value url : databases.getFieldsMap().values()) {
                String schema = url.getStringValue().replaceAll(".*currentSchema=", "");
                st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            }
        }
    }
}
