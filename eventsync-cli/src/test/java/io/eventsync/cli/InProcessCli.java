package io.eventsync.cli;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

/** Runs the {@code eventsync} command line in this JVM, capturing what it prints (commands print to System.out). */
final class InProcessCli {
    private InProcessCli() {}

    record Run(int exitCode, String stdout, String stderr) {
        /** The output as JSON; a top-level array is under {@code list}. */
        Struct json() throws Exception {
            Struct.Builder b = Struct.newBuilder();
            JsonFormat.parser().merge(stdout.strip().startsWith("[") ? "{\"list\": " + stdout + "}" : stdout, b);
            return b.build();
        }
    }

    static synchronized Run eventsync(String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().setErr(new PrintWriter(err, true)).execute(args);
            return new Run(code, captured.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(out);
        }
    }
}
