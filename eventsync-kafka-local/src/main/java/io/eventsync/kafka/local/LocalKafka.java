package io.eventsync.kafka.local;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.kafka.local.internal.BrokerConfiguration;
import io.eventsync.kafka.local.internal.BrokerProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker and controller) in a child JVM,
 * started from the Kafka jars on this JVM's classpath: no download, no Docker. Used by tests and by the
 * CLI when no bootstrap servers are given.
 *
 * <pre>{@code
 * try (LocalKafka kafka = LocalKafka.start();
 *      KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).build()) {
 *     ...
 * }
 * }</pre>
 *
 * <p>The broker listens on free loopback ports chosen at start and kept across {@link #restart()}, and
 * keeps its data in its own directory (a temporary one, deleted by {@link #close()}, unless
 * {@link Builder#dataDirectory(Path)} names one). Its output goes to {@link #logFile()}.
 *
 * <p>No orphan process: the child exits when its stdin reaches end-of-file, which happens when this
 * object stops it or when this JVM dies for any reason, SIGKILL included (see {@link BrokerProcess}).
 * A shutdown hook stops it cleanly (and deletes a temporary data directory) on an orderly exit.
 * Thread-safe.
 */
public final class LocalKafka implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LocalKafka.class);

    private final Path dataDirectory;
    private final boolean ownsDataDirectory;
    private final Duration startTimeout;
    private final Duration stopTimeout;
    private final int heapMegabytes;
    private final Map<String, String> brokerProperties;
    private final int brokerPort;
    private final int controllerPort;
    private final String clusterId;
    private final Thread shutdownHook;

    private Process process;
    private OutputStream parentPipe;
    private boolean closed;

    private LocalKafka(Builder builder, Path dataDirectory, boolean ownsDataDirectory) {
        this.dataDirectory = dataDirectory;
        this.ownsDataDirectory = ownsDataDirectory;
        this.startTimeout = builder.startTimeout;
        this.stopTimeout = builder.stopTimeout;
        this.heapMegabytes = builder.heapMegabytes;
        this.brokerProperties = Map.copyOf(builder.brokerProperties);
        this.brokerPort = freePort();
        this.controllerPort = freePort();
        this.clusterId = randomClusterId();
        this.shutdownHook = new Thread(this::closeQuietly, "eventsync-kafka-local-shutdown");
    }

    /** Starts a broker with default settings in a temporary directory; waits until it serves clients. */
    public static LocalKafka start() {
        return builder().start();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code 127.0.0.1:<port>}; stays the same across {@link #restart()}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /** Where the broker's output goes (appended to across restarts). */
    public Path logFile() {
        return dataDirectory.resolve("broker.log");
    }

    /** The child JVM's process id; throws when the broker is not running. */
    public synchronized long pid() {
        if (process == null) {
            throw new IllegalStateException("the local Kafka broker is not running");
        }
        return process.pid();
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Stops the broker cleanly (it flushes and closes its logs), forcibly when that takes longer than the
     * stop timeout. Keeps the data directory. Idempotent.
     */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        Process stopping = process;
        process = null;
        try {
            parentPipe.close(); // end-of-file on the child's stdin: BrokerProcess shuts Kafka down
        } catch (IOException e) {
            log.debug("closing the local Kafka broker's stdin failed; stopping it by signal", e);
            stopping.destroy();
        }
        if (!waitFor(stopping, stopTimeout)) {
            log.warn("local Kafka broker (pid {}) did not stop within {}; killing it", stopping.pid(), stopTimeout);
            stopping.destroyForcibly();
            waitFor(stopping, Duration.ofSeconds(10));
        }
        log.info("local Kafka broker at {} stopped", bootstrapServers());
    }

    /** Stops the broker cleanly and starts it again on the same ports with the same data. */
    public synchronized void restart() {
        stop();
        launch();
    }

    /** Stops the broker and, when the directory was created by {@link #start()}, deletes its data. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down: the hook is running or ran.
        }
        if (ownsDataDirectory) {
            deleteRecursively(dataDirectory);
        }
    }

    private synchronized void launch() {
        if (closed) {
            throw new IllegalStateException("the local Kafka broker is closed");
        }
        Path serverProperties = writeConfiguration();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx" + heapMegabytes + "m");
        command.add("-Xms64m");
        command.add("-XX:+UseSerialGC");
        command.add("-Djava.awt.headless=true");
        command.add("-Dlogback.configurationFile=" + BrokerConfiguration.logbackFile(dataDirectory));
        command.add("-Dlog4j2.configurationFile=" + BrokerConfiguration.log4j2File(dataDirectory));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(BrokerProcess.class.getName());
        command.add(serverProperties.toString());
        command.add(clusterId);
        command.add(logDirectory().resolve("meta.properties").toString());
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()))
                .redirectInput(ProcessBuilder.Redirect.PIPE);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new EventsyncException("cannot start the local Kafka broker JVM: " + e.getMessage(), e);
        }
        parentPipe = process.getOutputStream();
        log.info("local Kafka broker starting at {} (pid {}, data {})", bootstrapServers(), process.pid(), dataDirectory);
        awaitReady();
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2_000);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "eventsync-local-kafka-probe");
        awaitListening(deadline);
        try (Admin admin = Admin.create(props)) {
            while (true) {
                if (!process.isAlive()) {
                    throw new EventsyncException("the local Kafka broker exited with code " + process.exitValue()
                            + " while starting; see " + logFile() + ":\n" + tailOfLog());
                }
                try {
                    int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes().get(3, TimeUnit.SECONDS).size();
                    if (nodes > 0) {
                        log.info("local Kafka broker ready at {}", bootstrapServers());
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // Not listening yet.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopQuietly();
                    throw new EventsyncException("interrupted while waiting for the local Kafka broker", e);
                }
                if (System.nanoTime() > deadline) {
                    stopQuietly();
                    throw new EventsyncException("the local Kafka broker did not accept connections within "
                            + startTimeout + "; see " + logFile() + ":\n" + tailOfLog());
                }
            }
        }
    }

    /**
     * Waits for the listener socket before the admin client starts probing, so that a normal start does
     * not fill the log with the client's connection warnings. The JVM takes a few seconds to get there; a
     * child process offers no signal to wait on, so this probes with a short pause.
     */
    private void awaitListening(long deadline) {
        while (System.nanoTime() < deadline && process.isAlive()) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), brokerPort), 500);
                return;
            } catch (IOException notYet) {
                try {
                    process.waitFor(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private Path logDirectory() {
        return dataDirectory.resolve("kafka-logs");
    }

    private Path writeConfiguration() {
        return BrokerConfiguration.write(dataDirectory, logDirectory(), brokerPort, controllerPort, brokerProperties);
    }

    private String tailOfLog() {
        try {
            List<String> lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException e) {
            log.warn("closing the local Kafka broker failed", e);
        }
    }

    private void stopQuietly() {
        try {
            stop();
        } catch (RuntimeException e) {
            log.warn("stopping the local Kafka broker failed", e);
        }
    }

    private static boolean waitFor(Process process, Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free local port for the Kafka broker", e);
        }
    }

    /** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. */
    /**
     * A random id in Kafka's form (URL-safe base64 of 16 bytes), never starting with '-': kafka-storage's
     * argument parser takes such a value for an option ("--cluster-id: expected one argument"), which made
     * one broker start in 64 fail.
     */
    static String randomClusterId() {
        while (true) {
            UUID uuid = UUID.randomUUID();
            ByteBuffer bytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
                    .putLong(uuid.getLeastSignificantBits());
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
            if (id.charAt(0) != '-') {
                return id;
            }
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            log.warn("cannot delete the local Kafka data directory {}", root, e);
        }
    }

    /** Settings of a {@link LocalKafka}, validated by {@link #start()}. */
    public static final class Builder {
        private Path dataDirectory;
        private Duration startTimeout = Duration.ofSeconds(90);
        private Duration stopTimeout = Duration.ofSeconds(30);
        private int heapMegabytes = 512;
        private final Map<String, String> brokerProperties = new java.util.LinkedHashMap<>();

        private Builder() {
        }

        /** Keeps the broker's data here (created if missing, never deleted); default: a temporary directory. */
        public Builder dataDirectory(Path dataDirectory) {
            this.dataDirectory = dataDirectory;
            return this;
        }

        /** How long to wait for the broker to accept connections; default 90 s (a loaded 2-core machine). */
        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** How long a clean shutdown may take before the broker is killed; default 30 s. */
        public Builder stopTimeout(Duration stopTimeout) {
            this.stopTimeout = stopTimeout;
            return this;
        }

        /** Maximum heap of the broker JVM; default 512 MiB. */
        public Builder heapMegabytes(int heapMegabytes) {
            this.heapMegabytes = heapMegabytes;
            return this;
        }

        /** An extra or overriding line of the broker's server.properties. */
        public Builder brokerProperty(String name, String value) {
            brokerProperties.put(name, value);
            return this;
        }

        /** Validates the settings, starts the broker and waits until it serves clients. */
        public LocalKafka start() {
            requirePositive("startTimeout", startTimeout);
            requirePositive("stopTimeout", stopTimeout);
            if (heapMegabytes < 128) {
                throw new ConfigException("heapMegabytes must be at least 128, but was: " + heapMegabytes);
            }
            Path directory;
            boolean owned;
            try {
                if (dataDirectory == null) {
                    directory = Files.createTempDirectory("eventsync-kafka-");
                    owned = true;
                } else {
                    directory = Files.createDirectories(dataDirectory);
                    owned = false;
                }
            } catch (IOException e) {
                throw new ConfigException("dataDirectory cannot be created: " + dataDirectory + " (" + e.getMessage() + ")", e);
            }
            LocalKafka kafka = new LocalKafka(this, directory, owned);
            Runtime.getRuntime().addShutdownHook(kafka.shutdownHook);
            try {
                kafka.launch();
            } catch (RuntimeException e) {
                kafka.close();
                throw e;
            }
            return kafka;
        }

        private static void requirePositive(String field, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new ConfigException(field + " must be a positive duration, but was: " + value);
            }
        }
    }
}
