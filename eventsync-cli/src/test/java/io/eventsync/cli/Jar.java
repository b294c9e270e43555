package io.eventsync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the packaged jar ({@code target/eventsync.jar}) as a separate process, as a user would. */
final class Jar {
    private Jar() {}

    record Result(int exitCode, String stdout, String stderr) {
        Struct json() throws IOException {
            Struct.Builder builder = Struct.newBuilder();
            JsonFormat.parser().merge(stdout, builder);
            return builder.build();
        }
    }

    static Path jar() {
        Path jar = Path.of(System.getProperty("eventsync.jar", "target/eventsync.jar"));
        assertThat(jar).as("the shaded jar (built in the package phase)").exists();
        return jar;
    }

    private static final List<Process> STARTED = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Ends every process a test started that is still running (a failed assertion must not leak one). */
    static void killLeftovers() throws InterruptedException {
        for (Process p : STARTED) {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        STARTED.clear();
    }

    static Process start(Path workDir, Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-jar",
                jar().toAbsolutePath().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectOutput(workDir.resolve("stdout.txt").toFile())
                .redirectError(workDir.resolve("stderr.txt").toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        STARTED.add(process);
        return process;
    }

    static Result run(Path workDir, String... args) throws Exception {
        return run(workDir, Map.of(), args);
    }

    static Result run(Path workDir, Map<String, String> env, String... args) throws Exception {
        Process process = start(workDir, env, args);
        if (!process.waitFor(3, TimeUnit.MINUTES)) {
            process.destroyForcibly().waitFor();
            throw new AssertionError("eventsync " + String.join(" ", args) + " did not end within 3 minutes; stderr: "
                    + read(workDir.resolve("stderr.txt")));
        }
        return result(workDir, process.exitValue());
    }

    static Result result(Path workDir, int exitCode) throws IOException {
        return new Result(exitCode, read(workDir.resolve("stdout.txt")), read(workDir.resolve("stderr.txt")));
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    }
}
