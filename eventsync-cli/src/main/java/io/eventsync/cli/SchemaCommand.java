package io.eventsync.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.cli.pipeline.PipelineConfig;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.SchemaNames;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "schema", mixinStandardHelpOptions = true,
        header = "Installs (or prints) eventsync's tables.",
        description = "eventsync's tables (outbox, lease, log, offsets, inbox, dead letters).",
        subcommands = {SchemaCommand.Install.class})
final class SchemaCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "install", mixinStandardHelpOptions = true,
            description = "Creates the tables in a database (idempotent: safe to run again), or with --print and"
                    + " --dialect prints the DDL without connecting (for Flyway, Liquibase or a DBA).")
    static final class Install implements Callable<Integer> {
        @Option(names = "--jdbc-url", paramLabel = "URL", description = "The database (jdbc:postgresql:, jdbc:mariadb:, jdbc:h2:).")
        String jdbcUrl;

        @Option(names = "--user", paramLabel = "USER", description = "Database user.")
        String user;

        @Option(names = "--password-env", paramLabel = "NAME", defaultValue = "EVENTSYNC_DB_PASSWORD",
                description = "Environment variable holding the password (default: ${DEFAULT-VALUE}).")
        String passwordEnv;

        @Option(names = "--schema", paramLabel = "SCHEMA", description = "An existing schema (default: the connection's; required with --print).")
        String schema;

        @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = SchemaNames.DEFAULT_PREFIX,
                description = "Table prefix (default: ${DEFAULT-VALUE}).")
        String prefix;

        @Option(names = "--print", description = "Print the DDL instead of running it.")
        boolean print;

        @Option(names = "--dialect", paramLabel = "DIALECT", description = "With --print: postgresql, mariadb, mysql or h2.")
        String dialect;

        @Override
        public Integer call() {
            SchemaNames names = new SchemaNames(schema, prefix);
            if (print) {
                if (dialect == null) {
                    throw new ConfigException("--print needs --dialect (postgresql, mariadb, mysql or h2)");
                }
                EventsyncSchema.ddl(dialect, names).forEach(sql -> System.out.println(sql + ";\n"));
                return Main.OK;
            }
            if (jdbcUrl == null) {
                throw new ConfigException("give --jdbc-url (or --print --dialect D to only print the DDL)");
            }
            String password = System.getenv(passwordEnv);
            PipelineConfig.Database db = new PipelineConfig.Database(jdbcUrl, user,
                    new PipelineConfig.Secret(password == null ? "" : password), schema, 1);
            try (HikariDataSource ds = Pipeline.openPool("schema", db)) {
                EventsyncSchema.install(ds, names);
            }
            System.out.println("eventsync tables installed (" + (schema == null ? "current schema" : schema)
                    + ", prefix " + prefix + ")");
            return Main.OK;
        }
    }
}
