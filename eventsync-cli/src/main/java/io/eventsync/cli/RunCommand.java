package io.eventsync.cli;

import io.eventsync.cli.internal.Logging;
import io.eventsync.cli.internal.MetricsServer;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.cli.pipeline.PipelineConfig;
import io.eventsync.cli.pipeline.PipelineConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.eventsync.cli.internal.DurationConverter;
import io.eventsync.cli.internal.StatusLine;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run",
        header = "Runs a pipeline from a YAML file (relay and/or consume into copy tables).",
        mixinStandardHelpOptions = true,
        description = "Runs a pipeline from a YAML file: relays a source database's outbox to a transport and/or"
                + " consumes a topic into copy tables through declared mappings (payload types from a descriptor"
                + " set; no Java code). The whole file is checked before anything connects: an error names the"
                + " file, line and field, and exits 2. $${NAME} in a value is replaced by the environment variable"
                + " NAME (use it for passwords). SIGTERM or Ctrl-C stops taking work, finishes and commits what"
                + " is in flight, and exits 0.",
        sortOptions = false)
final class RunCommand implements Callable<Integer> {

    /**
     * Start and stop of a running pipeline. The shutdown hook (SIGTERM, Ctrl-C) waits for start-up to
     * finish, closes the pipeline (stop taking work, finish and commit in flight), then halts with 0:
     * a JVM ended by a signal would otherwise exit 143, and a clean stop is a success.
     */
    private static final class Lifecycle {
        private final CountDownLatch startedOrFailed = new CountDownLatch(1);
        private final CountDownLatch stopped = new CountDownLatch(1);
        private Pipeline pipeline;
        private StatusLine statusLine;
        private boolean stopping;
        private boolean failed;

        /** Returns false when a stop already began (the hook then closes {@code started}). */
        synchronized boolean started(Pipeline started) {
            pipeline = started;
            startedOrFailed.countDown();
            return !stopping;
        }

        /** Start-up failed: the exit code is the failure's, the hook has nothing to stop. */
        synchronized void failed() {
            failed = true;
            startedOrFailed.countDown();
        }

        synchronized void statusLine(StatusLine line) {
            statusLine = line;
        }

        void awaitStop() throws InterruptedException {
            stopped.await();
        }

        void stop(MetricsServer metrics) {
            synchronized (this) {
                stopping = true;
            }
            int exit = Main.OK;
            try {
                if (!startedOrFailed.await(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    log.warn("start-up did not finish within 60 s of the stop signal; exiting without it");
                }
                Pipeline running;
                StatusLine line;
                synchronized (this) {
                    if (failed) {
                        return; // System.exit(1) is under way; keep its exit code
                    }
                    running = pipeline;
                    line = statusLine;
                }
                if (line != null) {
                    line.close();
                }
                if (running != null) {
                    log.info("stopping: no new work; finishing and committing what is in flight");
                    running.close();
                    log.info("stopped cleanly");
                }
                if (metrics != null) {
                    metrics.close();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exit = Main.FAILED;
            } catch (RuntimeException e) {
                log.error("stopping the pipeline failed", e);
                exit = Main.FAILED;
            }
            stopped.countDown();
            Logging.flush();
            Runtime.getRuntime().halt(exit);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The pipeline file (YAML).")
    Path config;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serve Prometheus metrics on http://0.0.0.0:PORT/metrics.")
    Integer metricsPort;

    @Option(names = "--max-freshness", paramLabel = "TIME", defaultValue = "30s", converter = DurationConverter.class,
            description = "Health (/health on the metrics port): DOWN when a copy's freshness passes TIME or a"
                    + " partition with a backlog acknowledges nothing for TIME. Default: ${DEFAULT-VALUE}.")
    Duration maxFreshness;

    @Option(names = "--check", description = "Only validate the file (exit 0 when it is valid, 2 otherwise).")
    boolean check;

    @Option(names = "--verbose", description = "Log at DEBUG; stack traces on errors.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        Logging.setVerbose(verbose);
        PipelineConfig pipelineConfig = new PipelineConfigLoader(io.eventsync.cli.pipeline.PipelineConfigs.transportKinds(),
                System::getenv).load(config);
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new io.eventsync.ConfigException("--metrics-port must be 0..65535, but was " + metricsPort);
        }
        if (check) {
            System.out.println(config + ": valid");
            return Main.OK;
        }
        Logging.info();
        if (maxFreshness.isNegative() || maxFreshness.isZero()) {
            throw new io.eventsync.ConfigException("--max-freshness must be positive, but was " + maxFreshness);
        }
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        AtomicReference<Pipeline> running = new AtomicReference<>();
        MetricsServer metrics = metricsPort == null ? null : MetricsServer.start(metricsPort, meters, () -> {
            Pipeline p = running.get();
            return p == null ? List.of("starting") : p.dispatcher().map(d -> d.health(maxFreshness).reasons())
                    .orElse(List.of());
        });
        Lifecycle lifecycle = new Lifecycle();
        // Registered before anything starts, so a SIGTERM during start-up also stops cleanly.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> lifecycle.stop(metrics), "eventsync-shutdown"));
        Pipeline pipeline;
        try {
            pipeline = Pipeline.start(pipelineConfig, meters);
        } catch (RuntimeException e) {
            lifecycle.failed();
            throw e;
        }
        if (!lifecycle.started(pipeline)) {
            return Main.OK; // a stop arrived during start-up; the shutdown hook finishes it
        }
        running.set(pipeline);
        pipeline.dispatcher().ifPresent(d -> lifecycle.statusLine(StatusLine.start(d, meters, System.console() != null)));
        log.info("pipeline {} running{}; stop with SIGTERM or Ctrl-C", pipelineConfig.name(),
                metrics == null ? "" : ", metrics on port " + metrics.port());
        lifecycle.awaitStop();
        return Main.OK;
    }
}
