package io.eventsync.kafka.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Main class of the child JVM that {@link io.eventsync.kafka.local.LocalKafka} starts: formats the storage
 * directory on first start, then runs {@code kafka.Kafka} (a combined KRaft broker and controller).
 *
 * <p>The child must never outlive its parent, even when the parent is killed with SIGKILL and runs no
 * shutdown hook. The parent holds the write end of this process's stdin and never writes to it; the
 * operating system closes that pipe when the parent dies, so end-of-file on stdin means "the parent is
 * gone or wants us to stop". We then exit through {@link System#exit}, which runs Kafka's own shutdown
 * hook (a clean shutdown), and halt if that hangs.
 *
 * <p>The broker classes are reached by reflection: {@code kafka_2.13} is a runtime-only dependency
 * because no eventsync code compiles against the broker.
 *
 * <p>Arguments: {@code <server.properties> <cluster id> <meta.properties path>}.
 */
public final class BrokerProcess {
    /** How long the clean shutdown may take after the parent went away before the JVM halts. */
    private static final long HALT_AFTER_MILLIS = 20_000;

    private BrokerProcess() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: BrokerProcess <server.properties> <cluster id> <meta.properties>");
        }
        Thread watcher = new Thread(BrokerProcess::exitWhenParentGoes, "eventsync-kafka-parent-watch");
        watcher.setDaemon(true);
        watcher.start();

        String serverProperties = args[0];
        if (!Files.exists(Path.of(args[2]))) {
            format(serverProperties, args[1]);
        }
        Class.forName("kafka.Kafka").getMethod("main", String[].class)
                .invoke(null, (Object) new String[] {serverProperties});
    }

    private static void format(String serverProperties, String clusterId) throws Exception {
        Class<?> tool = Class.forName("kafka.tools.StorageTool$");
        Object module = tool.getField("MODULE$").get(null);
        Method execute = tool.getMethod("execute", String[].class, PrintStream.class);
        // "--cluster-id=<id>": a value after its option in one argument is never read as an option itself.
        String[] formatArgs = {"format", "--cluster-id=" + clusterId, "-c", serverProperties, "--ignore-formatted"};
        int code = (Integer) execute.invoke(module, formatArgs, System.out);
        if (code != 0) {
            System.err.println("kafka storage format failed with exit code " + code);
            System.exit(code);
        }
    }

    private static void exitWhenParentGoes() {
        try (InputStream in = System.in) {
            byte[] buffer = new byte[64];
            while (in.read(buffer) >= 0) {
                // The parent never writes; anything read is ignored.
            }
        } catch (IOException e) {
            // A broken pipe also means the parent is gone.
        }
        Thread halter = new Thread(() -> {
            try {
                Thread.sleep(HALT_AFTER_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.err.println("eventsync: clean broker shutdown took over " + HALT_AFTER_MILLIS + " ms; halting");
            Runtime.getRuntime().halt(1);
        }, "eventsync-kafka-halt");
        halter.setDaemon(true);
        halter.start();
        System.out.println("eventsync: parent closed stdin; shutting the broker down");
        System.exit(0);
    }
}
