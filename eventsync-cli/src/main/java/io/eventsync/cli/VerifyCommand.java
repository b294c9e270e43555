package io.eventsync.cli;

import io.eventsync.ConfigException;
import io.eventsync.cli.internal.DiffJson;
import io.eventsync.cli.internal.Json;
import io.eventsync.verify.DiffReport;
import io.eventsync.verify.TableDiff;
import io.eventsync.verify.TableProjection;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Compares a copy table with its source, row for row: MATCH, or the keys that differ.",
        description = "Compares a copy table with its source table, keyed, on the copy's columns: every source"
                + " key must be in the copy with equal values, and the copy must hold no other key. The two"
                + " tables may live on different databases (numbers compare by value). Exits 0 on MATCH, 1 when"
                + " keys differ.",
        sortOptions = false)
final class VerifyCommand implements Callable<Integer> {

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

    @Option(names = "--key", required = true, paramLabel = "SOURCE[=COPY]", description = "The key column(s) name.")
    String key;

    @Option(names = "--columns", required = true, split = ",", paramLabel = "SOURCE[=COPY]",
            description = "The compared columns, comma-separated; SOURCE=COPY when the copy names one differently.")
    List<String> columns;

    @Option(names = "--show", paramLabel = "N", defaultValue = "20", description = "Differing keys to show (default: ${DEFAULT-VALUE}).")
    int show;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> sourceColumns = new ArrayList<>();
        List<String> copyColumns = new ArrayList<>();
        for (String column : columns) {
            sourceColumns.add(left(column));
            copyColumns.add(right(column));
        }
        TableProjection source = new TableProjection(left(table), left(key), sourceColumns);
        TableProjection copy = new TableProjection(right(table), right(key), copyColumns);
        DiffReport report;
        try (Connection s = DriverManager.getConnection(sourceUrl, sourceUser, password(sourcePasswordEnv));
             Connection c = DriverManager.getConnection(copyUrl, copyUser, password(copyPasswordEnv))) {
            report = TableDiff.reportingAtMost(show).compare(source.table() + " -> " + copy.table(), s, source, c, copy);
        }
        if (json) {
            System.out.println(Json.write(DiffJson.of(report)));
        } else {
            System.out.printf("%s: %s (%,d source rows, %,d copy rows)%n", report.name(), report.verdict(),
                    report.sourceRows(), report.copyRows());
            report.differences().forEach(d -> System.out.println("  " + d));
        }
        return report.matches() ? Main.OK : Main.FAILED;
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
