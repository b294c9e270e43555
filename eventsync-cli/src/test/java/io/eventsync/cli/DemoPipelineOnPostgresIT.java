package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code demo --db postgres} leaves a {@code pipeline.yaml} that {@code eventsync} accepts and that
 * points at the run's own schemas, and {@code demo --db postgres --clean} drops what demo runs left.
 */
class DemoPipelineOnPostgresIT {
    private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

    @TempDir
    Path work;

    @AfterEach
    void endLeftoverProcesses() throws InterruptedException {
        Jar.killLeftovers();
    }

    @Test
    void theDemoOnPostgresWritesItsPipelineAndCleanDropsItsSchemas() throws Exception {
        Jar.Result demo = Jar.run(work, "demo", "--db", "postgres", "--count", "200", "--keys", "20", "--dir", "data",
                "--json");
        assertThat(demo.exitCode()).as("exit code; stderr: %s", demo.stderr()).isZero();
        Struct report = demo.json();
        assertThat(report.getFieldsOrThrow("result").getStringValue()).isEqualTo("MATCH");
        List<String> schemas = new ArrayList<>();
        for (Value url : report.getFieldsOrThrow("databases").getStructValue().getFieldsMap().values()) {
            schemas.add(url.getStringValue().replaceAll(".*currentSchema=", ""));
        }
        String run = schemas.get(0).replaceAll("_[a-z]+$", ""); // esdemo_<run>

        String pipeline = Files.readString(work.resolve("data").resolve("pipeline.yaml"));
        assertThat(pipeline).contains("currentSchema=" + run + "_orders").contains("currentSchema=" + run + "_audit")
                .contains("user: postgres");
        Jar.Result status = Jar.run(work, "status", "--config", "data/pipeline.yaml", "--json");
        assertThat(status.exitCode()).as("status of the demo's pipeline; stderr: %s", status.stderr()).isZero();

        Jar.Result clean = Jar.run(work, "demo", "--db", "postgres", "--clean");
        assertThat(clean.exitCode()).as(clean.stderr()).isZero();
        assertThat(clean.stdout()).contains(run + "_orders", run + "_audit");
        assertThat(demoSchemasLeft(run)).isEmpty();

        Jar.Result h2 = Jar.run(work, "demo", "--clean");
        assertThat(h2.exitCode()).isEqualTo(2);
        assertThat(h2.stderr()).contains("--clean needs --db");
    }

    private static List<String> demoSchemasLeft(String run) throws Exception {
        List<String> left = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(PG, "postgres", "");
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '" + run + "%'")) {
            while (rs.next()) {
                left.add(rs.getString(1));
            }
        }
        return left;
    }
}
