package io.eventsync.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.cli.internal.DiffJson;
import io.eventsync.cli.internal.DurationConverter;
import io.eventsync.cli.internal.Json;
import io.eventsync.cli.internal.Progress;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.verify.DiffProgress;
import io.eventsync.verify.DiffReport;
import io.eventsync.verify.KeyRepair;
import io.eventsync.verify.LiveCheck;
import io.eventsync.verify.TableDiff;
import io.eventsync.verify.TableProjection;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import javax.sql.DataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Compares a copy table with its source by checksums in both databases: MATCH, or the keys that differ.",
        description = {"Compares a copy table with its source table, keyed, on the paired columns: every source key"
                + " must be in the copy with equal values, and the copy must hold no other key. Each database hashes"
                + " its own rows over key ranges; only ranges whose checksums differ are split and read, so memory"
                + " stays flat at any table size. The two tables may live on different databases (PostgreSQL, MariaDB,"
                + " H2; numbers compare by value, timestamps in UTC).",
                "",
                "Every difference is read again before it is reported. With --subscription and --outbox-source (and"
                + " --version) it is re-checked after the copy has applied what the source had committed for the key,"
                + " so a diff taken while events flow reports only real divergence.",
                "",
                "--repair says how each differing key would be repaired; --repair --apply writes the source's row (or"
                + " deletes the copy's) under the copy table's version guard, never over a newer event."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:the copy equals the source (with --repair --apply: every differing key was repaired)",
                "1:keys differ (with --repair --apply: some could not be repaired; they are listed)",
                "2:error: bad options, a table or column that does not exist, a database that cannot be reached"},
        sortOptions = false)
final class VerifyCommand implements Callable<Integer> {
    static final int EQUAL = 0;
    static final int DIFFERS = 1;
    static final int ERROR = 2;

    @Spec
    CommandSpec spec;

    @Option(names = "--source-url", required = true, paramLabel = "URL", description = "The source database.")
    String sourceUrl;

    @Option(names = "--source-user", paramLabel = "USER", description = "Its user.")
    String sourceUser;

    @Option(names = "--source-password-env", paramLabel = "NAME", description = "Environment variable holding its password.")
    String sourcePasswordEnv;

    @Option(names = "--copy-url", required = true, paramLabel = "URL", description = "The copy's database.")
    String copyUrl;

    @Option(names = "--copy-user", paramLabel = "USER", description = "Its user.")
    String copyUser;

    @Option(names = "--copy-password-env", paramLabel = "NAME", description = "Environment variable holding its password.")
    String copyPasswordEnv;

    @Option(names = "--table", required = true, paramLabel = "SOURCE[=COPY]",
            description = "The source table and, if named differently, the copy table (schema.table allowed).")
    String table;

    @Option(names = "--key", required = true, paramLabel = "SOURCE[=COPY]", description = "The key column (unique on each side).")
    String key;

    @Option(names = "--columns", required = true, split = ",", paramLabel = "SOURCE[=COPY]",
            description = "The compared columns, comma-separated; SOURCE=COPY when the copy names one differently.")
    List<String> columns;

    @Option(names = "--where", paramLabel = "SQL",
            description = "Compare only the rows matching this SQL condition (on both sides; e.g. a key range: \"id BETWEEN 1 AND 5000\").")
    String where;

    @Option(names = "--copy-where", paramLabel = "SQL", description = "The condition on the copy, when its columns are named differently (default: --where).")
    String copyWhere;

    @Option(names = "--chunk-size", paramLabel = "ROWS", defaultValue = "20000",
            description = "Source rows per checksummed range (default: ${DEFAULT-VALUE}).")
    int chunkSize;

    @Option(names = "--version", paramLabel = "SOURCE[=COPY]",
            description = "The version column (the source row's event sequence; the copy table's version column). Needed by --repair; makes live re-checks exact.")
    String version;

    @Option(names = "--subscription", paramLabel = "GROUP",
            description = "The consumer group that applies the source's events to the copy: differences are re-checked after it has applied the key's pending events.")
    String subscription;

    @Option(names = "--outbox-source", paramLabel = "NAME", description = "The source's outbox name (Outbox.of(NAME)), with --subscription.")
    String outboxSource;

    @Option(names = "--source-schema", paramLabel = "SCHEMA", description = "Schema of the source's eventsync tables (default: the connection's).")
    String sourceSchema;

    @Option(names = "--copy-schema", paramLabel = "SCHEMA", description = "Schema of the copy's eventsync tables: inbox, tombstones (default: the copy table's).")
    String copySchema;

    @Option(names = "--settle-timeout", paramLabel = "TIME", converter = DurationConverter.class,
            description = "With --subscription or --version: how long a difference may take to settle before it is reported (default: 30s).")
    Duration settleTimeout;

    @Option(names = "--repair", description = "Say how each differing key would be repaired (a dry run: nothing is written).")
    boolean repair;

    @Option(names = "--apply", description = "With --repair: write the repairs to the copy.")
    boolean apply;

    @Option(names = "--show", paramLabel = "N", defaultValue = "20", description = "Differing keys to show (default: ${DEFAULT-VALUE}).")
    int show;

    @Option(names = "--json", description = "Print JSON (and no progress line).")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (apply && !repair) {
                throw new ConfigException("--apply writes repairs: give it with --repair");
            }
            TableProjection source = projection(true);
            TableProjection copy = projection(false);
            String name = source.table() + " -> " + copy.table();
            DiffReport report;
            AtomicReference<DiffProgress> latest = new AtomicReference<>();
            try (HikariDataSource inboxDb = subscription == null ? null : inboxPool()) {
                TableDiff diff = diff(latest::set, inboxDb); // checks the options before anything connects
                try (Connection s = connect("source", sourceUrl, sourceUser, sourcePasswordEnv);
                     Connection c = connect("copy", copyUrl, copyUser, copyPasswordEnv);
                     Progress progress = json ? null : Progress.onTerminal(() -> line(name, latest.get()))) {
                    report = diff.compare(name, s, source, c, copy);
                }
            }
            print(out, report);
            return exitCode(report);
        } catch (ConfigException e) {
            err.println("eventsync verify: " + e.getMessage());
            return ERROR;
        } catch (SQLException | EventsyncException e) {
            err.println("eventsync verify failed: " + e.getMessage());
            return ERROR;
        }
    }

    /** The copy's database for the inbox; it connects on first use (awaitApplied), not here. */
    private HikariDataSource inboxPool() {
        HikariDataSource pool = new HikariDataSource();
        pool.setPoolName("eventsync-verify-inbox");
        pool.setJdbcUrl(copyUrl);
        if (copyUser != null) {
            pool.setUsername(copyUser);
        }
        pool.setPassword(password(copyPasswordEnv));
        pool.setMaximumPoolSize(1);
        return pool;
    }

    private TableDiff diff(Consumer<DiffProgress> progress, DataSource inboxDb) {
        TableDiff.Builder b = TableDiff.builder().chunkSize(chunkSize).reportAtMost(show).progress(progress);
        if (version != null) {
            b.versionColumns(left(version), right(version));
        }
        if (repair) {
            b.repair(apply ? TableDiff.Repair.APPLY : TableDiff.Repair.DRY_RUN,
                    copySchema == null ? SchemaNames.defaults() : SchemaNames.of(copySchema));
        }
        if (subscription != null || outboxSource != null || settleTimeout != null) {
            LiveCheck.Builder live = LiveCheck.builder();
            if (settleTimeout != null) {
                live.timeout(settleTimeout);
            }
            if (subscription != null || outboxSource != null) {
                if (subscription == null || outboxSource == null) {
                    throw new ConfigException("--subscription and --outbox-source go together: the diff waits until"
                            + " the group has applied the key's events still in the source's outbox");
                }
                SchemaNames sourceNames = sourceSchema == null ? SchemaNames.defaults() : SchemaNames.of(sourceSchema);
                SchemaNames copyNames = copySchema == null ? SchemaNames.defaults() : SchemaNames.of(copySchema);
                live.outbox(Outbox.of(outboxSource, sourceNames))
                        .inbox(Inbox.builder(inboxDb).schema(copyNames).build(), subscription);
            } else if (version == null) {
                throw new ConfigException("--settle-timeout needs --version or --subscription: without either there is"
                        + " nothing to wait for");
            }
            b.live(live.build());
        }
        return b.build();
    }

    private TableProjection projection(boolean sourceSide) {
        List<String> names = new ArrayList<>();
        for (String column : columns) {
            names.add(sourceSide ? left(column) : right(column));
        }
        String condition = sourceSide || copyWhere == null ? where : copyWhere;
        TableProjection p = new TableProjection(sourceSide ? left(table) : right(table),
                sourceSide ? left(key) : right(key), names);
        return condition == null ? p : p.where(condition);
    }

    private void print(PrintWriter out, DiffReport report) {
        if (json) {
            out.println(Json.write(DiffJson.of(report)));
            out.flush();
            return;
        }
        DiffReport.Work w = report.work();
        out.printf(Locale.ROOT, "%s: %s (%,d source rows, %,d copy rows; %,d ranges, %,d rows read, %.2f s)%n",
                report.name(), report.verdict(), report.sourceRows(), report.copyRows(), w.ranges(), w.rowsFetched(),
                w.elapsed().toNanos() / 1e9);
        report.differences().forEach(d -> out.println("  " + d));
        if (report.differingKeys() > report.differences().size()) {
            out.printf("  ... and %,d more (--show N)%n", report.differingKeys() - report.differences().size());
        }
        if (w.inFlight() > 0) {
            out.printf("  %,d difference(s) seen in flight settled on their re-check%n", w.inFlight());
        }
        DiffReport.Repairs r = report.repairs();
        if (r.mode() != TableDiff.Repair.NONE) {
            out.printf("repair%s: %,d key(s) %s, %,d kept (the copy holds a newer version)%n",
                    r.mode() == TableDiff.Repair.DRY_RUN ? " (dry run, nothing written; --apply to write)" : "",
                    r.changed(), r.mode() == TableDiff.Repair.DRY_RUN ? "would change" : "changed", r.kept());
            r.keys().forEach(k -> out.println("  " + k));
        }
        out.flush();
    }

    private int exitCode(DiffReport report) {
        if (report.matches()) {
            return EQUAL;
        }
        DiffReport.Repairs r = report.repairs();
        boolean allRepaired = r.mode() == TableDiff.Repair.APPLY && r.kept() == 0 && r.changed() == report.differingKeys()
                && r.keys().stream().allMatch(k -> k.outcome() == KeyRepair.Outcome.CHANGED);
        return allRepaired ? EQUAL : DIFFERS;
    }

    private static String line(String name, DiffProgress p) {
        if (p == null) {
            return "verify " + name + ": starting";
        }
        String bar = p.fraction() < 0 ? "" : Progress.bar(p.fraction(), 20) + " ";
        return String.format(Locale.ROOT, "verify %s %s%,d rows checked, %,d ranges left, %,.0f rows/s, %,d differ",
                name, bar, p.sourceRows(), p.rangesLeft(), p.rowsPerSecond(), p.differences());
    }

    private static Connection connect(String side, String url, String user, String passwordEnv) throws SQLException {
        if (url == null || !url.startsWith("jdbc:")) {
            throw new ConfigException("--" + side + "-url must be a JDBC URL (jdbc:postgresql:, jdbc:mariadb:, jdbc:h2:),"
                    + " but was: " + url);
        }
        try {
            return DriverManager.getConnection(url, user, password(passwordEnv));
        } catch (SQLException e) {
            throw new ConfigException("cannot connect to the " + side + " database " + redact(url) + ": "
                    + e.getMessage() + " (check --" + side + "-url, --" + side + "-user and --" + side + "-password-env)", e);
        }
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password|pwd)=[^&;]*", "$1=***").replaceAll("//[^/@]*@", "//");
    }

    private static String password(String env) {
        if (env == null) {
            return "";
        }
        String value = System.getenv(env);
        if (value == null) {
            throw new ConfigException("environment variable " + env + " is not set");
        }
        return value;
    }

    private static String left(String pair) {
        int eq = pair.indexOf('=');
        return (eq < 0 ? pair : pair.substring(0, eq)).trim();
    }

    private static String right(String pair) {
        int eq = pair.indexOf('=');
        return (eq < 0 ? pair : pair.substring(eq + 1)).trim();
    }
}
