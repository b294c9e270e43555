package io.eventsync.cli;

import io.eventsync.ConfigException;
import io.eventsync.cli.pipeline.PipelineConfig;
import io.eventsync.cli.pipeline.PipelineConfigLoader;
import io.eventsync.cli.pipeline.PipelineConfigs;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Which consumer database and group an operations command works on: from a pipeline file
 * ({@code --config}: its consume section), or given directly ({@code --jdbc-url} ...). Commands about
 * the source side (relay dead letters) take the file's relay section instead.
 */
final class DatabaseOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "A pipeline file: use its consume database and group.")
    Path config;

    @Option(names = "--jdbc-url", paramLabel = "URL", description = "The consumer's database (instead of --config).")
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "USER", description = "Database user.")
    String user;

    @Option(names = "--password-env", paramLabel = "NAME", defaultValue = "EVENTSYNC_DB_PASSWORD",
            description = "Environment variable holding the database password (default: ${DEFAULT-VALUE}).")
    String passwordEnv;

    @Option(names = "--schema", paramLabel = "SCHEMA", description = "Schema of the eventsync tables (default: the connection's).")
    String schema;

    @Option(names = {"-g", "--group", "--subscription"}, paramLabel = "GROUP",
            description = "Consumer group (subscription); default: the pipeline file's consume.group.")
    String group;

    private PipelineConfig loaded;

    PipelineConfig pipeline() {
        if (config == null) {
            throw new ConfigException("--config is required for this command (the handlers come from its mappings)");
        }
        if (loaded == null) {
            loaded = new PipelineConfigLoader(PipelineConfigs.transportKinds(), System::getenv).load(config);
        }
        return loaded;
    }

    PipelineConfig.Database database() {
        if (jdbcUrl != null) {
            return direct();
        }
        if (config == null) {
            throw new ConfigException("give the consumer database: --config FILE or --jdbc-url URL");
        }
        return pipeline().consume().map(PipelineConfig.ConsumeConfig::database).orElseThrow(() ->
                new ConfigException(config + ": declares no consume section; give --jdbc-url instead"));
    }

    /** The source database, where the outbox and its relay dead letters are: --jdbc-url, or the file's relay section. */
    PipelineConfig.Database sourceDatabase() {
        if (jdbcUrl != null) {
            return direct();
        }
        if (config == null) {
            throw new ConfigException("give the source database: --config FILE or --jdbc-url URL");
        }
        return pipeline().relay().map(PipelineConfig.RelayConfig::database).orElseThrow(() ->
                new ConfigException(config + ": declares no relay section; give --jdbc-url instead"));
    }

    private PipelineConfig.Database direct() {
        if (!jdbcUrl.startsWith("jdbc:")) {
            throw new ConfigException("--jdbc-url must be a JDBC URL (jdbc:...), but was: " + jdbcUrl);
        }
        String password = System.getenv(passwordEnv);
        return new PipelineConfig.Database(jdbcUrl, user, new PipelineConfig.Secret(password == null ? "" : password),
                schema, 2);
    }

    String group() {
        if (group != null) {
            return group;
        }
        if (config != null && pipeline().consume().isPresent()) {
            return pipeline().consume().get().group();
        }
        throw new ConfigException("give the consumer group: --group NAME (or --config FILE)");
    }
}
