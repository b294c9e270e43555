package io.eventsync.cli;

import io.eventsync.cli.demo.Demo;
import io.eventsync.cli.demo.DemoReport;
import io.eventsync.cli.demo.DemoSettings;
import io.eventsync.cli.demo.FaultPlan;
import io.eventsync.cli.demo.Infrastructure;
import io.eventsync.cli.internal.DurationConverter;
import io.eventsync.cli.internal.Json;
import io.eventsync.cli.internal.Logging;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo",
        header = "The embedded demo: three services, faults on request, a report that proves every copy.",
        mixinStandardHelpOptions = true,
        description = "Runs three services in one JVM, on the embedded default (H2 file databases, embedded"
                + " log) unless --broker / --db name real parts: orders writes orders and their events in one transaction; billing and shipping keep"
                + " copies with different projections. Ends with throughput, freshness, faults handled, dead letters"
                + " and a row-for-row check of every copy against the source (MATCH, or the keys that differ).%n"
                + "Exits 0 when every copy matches, 1 otherwise.",
        sortOptions = false)
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Directory for the databases and the log (created). Default: ./eventsync-data/demo-<timestamp>.")
    Path dir;

    @Option(names = "--count", paramLabel = "N", defaultValue = "10000",
            description = "Events to write (default: ${DEFAULT-VALUE}). Ignored with --duration.")
    long count;

    @Option(names = "--duration", paramLabel = "TIME", converter = DurationConverter.class,
            description = "Write for this long instead of --count, e.g. 30s, 2m.")
    Duration duration;

    @Option(names = "--rate", paramLabel = "EVENTS/S", defaultValue = "0",
            description = "Events per second over all writers; 0 = as fast as possible (default).")
    double rate;

    @Option(names = "--keys", paramLabel = "N", defaultValue = "2000",
            description = "Distinct orders (event keys) (default: ${DEFAULT-VALUE}).")
    int keys;

    @Option(names = "--skew", paramLabel = "S", defaultValue = "0.8",
            description = "Zipf exponent of key popularity: 0 = uniform, 1 = a few hot keys (default: ${DEFAULT-VALUE}).")
    double skew;

    @Option(names = "--writers", paramLabel = "N", defaultValue = "4",
            description = "Concurrent writers at the source (default: ${DEFAULT-VALUE}).")
    int writers;

    @Option(names = "--faults", paramLabel = "SPEC", arity = "0..1", fallbackValue = "default",
            description = "Inject faults. Without a value: handler-error:0.02,hang:0.002,abandon:0.001,"
                    + "duplicate:0.01,invalid:0.005,restart:0.0005. Or name:rate,... (probabilities per event;"
                    + " unnamed faults keep their default): handler-error (transient exception), hang (past the"
                    + " timeout, stops when cancelled), abandon (past the timeout, ignores cancellation: abandoned),"
                    + " duplicate (delivered twice), invalid (breaks buf.validate rules: dead letters only),"
                    + " restart (a consumer stops and starts again).")
    String faults;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "Random seed of the workload (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--catch-up", paramLabel = "TIME", defaultValue = "60s", converter = DurationConverter.class,
            description = "How long to wait for the copies after the last write (default: ${DEFAULT-VALUE}).")
    Duration catchUp;

    @Option(names = "--broker", paramLabel = "KIND",
            description = "Run on a real broker instead of the embedded log: kafka, nats or rabbitmq.")
    String broker;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "With --broker kafka: the cluster; without it a local Kafka broker is started in a child JVM.")
    String bootstrapServers;

    @Option(names = "--broker-url", paramLabel = "URL",
            description = "With --broker nats or rabbitmq: default nats://127.0.0.1:4222, amqp://guest:guest@127.0.0.1:5672.")
    String brokerUrl;

    @Option(names = "--db", paramLabel = "KIND",
            description = "Run on a database server instead of H2 files: postgres or mariadb (a fresh schema per service).")
    String db;

    @Option(names = "--jdbc-url", paramLabel = "URL",
            description = "With --db: the server (default jdbc:postgresql://127.0.0.1:5432/test, jdbc:mariadb://127.0.0.1:3306/test).")
    String jdbcUrl;

    @Option(names = "--db-user", paramLabel = "USER", description = "With --db: the user (default postgres, root).")
    String dbUser;

    @Option(names = "--db-password-env", paramLabel = "NAME", defaultValue = "EVENTSYNC_DB_PASSWORD",
            description = "With --db: environment variable holding the password (default: ${DEFAULT-VALUE}; empty if unset).")
    String dbPasswordEnv;

    @Option(names = "--clean", description = "With --db: drop the schemas (PostgreSQL) or databases (MariaDB) that"
            + " earlier demo runs left on the server (esdemo_*), then exit without running the demo.")
    boolean clean;

    @Option(names = "--json", description = "Print the report as JSON (and nothing else on stdout).")
    boolean json;

    @Option(names = "--verbose", description = "Log at DEBUG to the data directory's eventsync.log; stack traces on errors.")
    boolean verbose;

    private Infrastructure infrastructure() {
        if (broker == null && (bootstrapServers != null || brokerUrl != null)) {
            throw new io.eventsync.ConfigException("--bootstrap-servers and --broker-url need --broker");
        }
        if (db == null && (jdbcUrl != null || dbUser != null)) {
            throw new io.eventsync.ConfigException("--jdbc-url and --db-user need --db");
        }
        String servers = "kafka".equals(broker) ? bootstrapServers : brokerUrl;
        return new Infrastructure(broker, servers, db, jdbcUrl, dbUser, System.getenv(dbPasswordEnv));
    }

    @Override
    public Integer call() throws Exception {
        Logging.setVerbose(verbose);
        if (clean) {
            java.util.List<String> dropped = Demo.clean(infrastructure());
            System.out.println(dropped.isEmpty() ? "no demo schemas on the server"
                    : "dropped " + dropped.size() + ": " + String.join(", ", dropped));
            return Main.OK;
        }
        Path directory = dir != null ? dir : Path.of("eventsync-data",
                "demo-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        DemoSettings settings = new DemoSettings(directory, count, duration, rate, keys, skew, writers,
                faults == null ? FaultPlan.NONE : FaultPlan.parse(faults), catchUp, seed, infrastructure());
        Files.createDirectories(directory);
        Logging.toFile(directory.resolve("eventsync.log"));
        if (!json) {
            System.out.printf("eventsync demo: writing %s to %s%n",
                    duration != null ? "for " + duration.toSeconds() + " s" : String.format("%,d events", count),
                    directory.toAbsolutePath());
        }
        DemoReport report = new Demo(settings).run();
        System.out.println(json ? Json.write(report) : report.text());
        System.out.flush();
        return report.ok() ? Main.OK : Main.FAILED;
    }
}
