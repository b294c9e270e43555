package io.eventsync.jdbc;

import io.eventsync.ConfigException;
import io.eventsync.EventsyncException;
import io.eventsync.jdbc.internal.Dialect;
import io.eventsync.jdbc.internal.Jdbc;
import io.eventsync.jdbc.internal.Tables;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * Installs eventsync's tables (outbox, lease, log, offsets, inbox, dead letters) and, on PostgreSQL, the
 * function {@code <prefix>notify(source)} with which writers in any language wake the relay (see
 * docs/outbox-contract.md). Idempotent: every statement is {@code CREATE ... IF NOT EXISTS} or
 * {@code CREATE OR REPLACE}, so calling it on every start is fine.
 *
 * <p>The DDL ships as plain SQL per dialect under {@code io/eventsync/jdbc/schema/<dialect>/V<n>__*.sql}
 * with {@code ${schema}} and {@code ${prefix}} placeholders; teams that migrate with Flyway or
 * Liquibase can run those files instead. A schema change comes as a new file (V2 adds
 * {@code <prefix>freshness_partition}), so an install that ran the earlier files gets it as one more
 * migration, and {@link #install} on an existing database adds what is missing.
 */
public final class EventsyncSchema {
    private EventsyncSchema() {}

    /** Installs into the connection's current schema with the prefix {@code eventsync_}. */
    public static void install(DataSource dataSource) {
        install(dataSource, SchemaNames.defaults());
    }

    /** Installs into {@code names.schema()} (which must exist) with {@code names.prefix()}. */
    public static void install(DataSource dataSource, SchemaNames names) {
        try (Connection c = Jdbc.connect(dataSource, "installing the eventsync schema")) {
            Tables tables = Tables.resolve(c, names);
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
                for (String sql : statements(tables)) {
                    if (isFunction(sql)) {
                        installFunction(c, st, sql);
                    } else {
                        st.execute(sql);
                    }
                }
            } finally {
                c.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw new EventsyncException("installing the eventsync schema " + names + " failed (SQLState "
                    + e.getSQLState() + "): " + e.getMessage(), e);
        }
    }

    private static final java.util.regex.Pattern FUNCTION = java.util.regex.Pattern.compile(
            "(?s)^\\s*CREATE OR REPLACE FUNCTION\\s+(\"[^\"]+\"\\.\"[^\"]+\")\\s*\\((.*?)\\).*?\\$\\$(.*)\\$\\$\\s*;?\\s*$");

    private static boolean isFunction(String sql) {
        return FUNCTION.matcher(sql).matches();
    }

    /**
     * CREATE OR REPLACE FUNCTION rewrites the function even when nothing changed, and then fails for a
     * role that does not own it, or with "tuple concurrently updated" when several instances install at
     * once (every start, with the Spring starter). Skipped when the function already has this body; when
     * the statement fails and the function exists, a warning, not a failed install.
     */
    private static void installFunction(Connection c, Statement st, String sql) throws SQLException {
        java.util.regex.Matcher m = FUNCTION.matcher(sql);
        if (!m.matches()) {
            st.execute(sql);
            return;
        }
        String name = m.group(1);
        String signature = name + "(" + m.group(2).replaceAll("(?i)\\b\\w+\\s+(TEXT)\\b", "$1") + ")";
        String body = m.group(3);
        String existing = functionBody(c, signature);
        if (body.equals(existing)) {
            return;
        }
        try {
            st.execute(sql);
        } catch (SQLException e) {
            if (functionBody(c, signature) == null) {
                throw e;
            }
            org.slf4j.LoggerFactory.getLogger(EventsyncSchema.class).warn("function {} exists but could not be"
                    + " replaced (SQLState {}: {}); keeping the one there", signature, e.getSQLState(), e.getMessage());
        }
    }

    /** The source of the function, or null when there is none. */
    private static String functionBody(Connection c, String signature) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT p.prosrc FROM pg_proc p WHERE p.oid = to_regprocedure(?)")) {
            ps.setString(1, signature);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The DDL statements for one dialect, schema and prefix, placeholders substituted. */
    public static List<String> ddl(String dialect, SchemaNames names) {
        if (names.schema() == null) {
            throw new ConfigException("schema is required to render DDL without a connection, but was null");
        }
        Dialect d = switch (dialect) {
            case "postgresql" -> Dialect.POSTGRES;
            case "mariadb", "mysql" -> Dialect.MARIADB;
            case "h2" -> Dialect.H2;
            default -> throw new ConfigException("dialect must be postgresql, mariadb, mysql or h2, but was: " + dialect);
        };
        return statements(new Tables(d, names.schema(), names.prefix()));
    }

    /**
     * The shipped DDL of one eventsync table ({@code suffix}: {@code copy_tombstones}) and its indexes, for
     * a schema the installer did not touch (a copy table's own schema).
     */
    static List<String> statementsOf(Tables tables, String suffix) {
        String table = tables.table(suffix);
        return statements(tables).stream().filter(sql -> sql.contains(table + " ")).toList();
    }

    static List<String> statements(Tables tables) {
        // Only validated identifiers are substituted (Tables validated both on construction).
        StringBuilder all = new StringBuilder();
        for (String resource : tables.dialect().schemaResources()) {
            all.append(read(resource)).append('\n');
        }
        String script = all.toString()
                .replace("${schema}", tables.schema())
                .replace("${prefix}", tables.prefix());
        List<String> result = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean inBody = false; // inside a $$-quoted function body, whose lines end with ';' of their own
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (!inBody && (trimmed.startsWith("--") || trimmed.isEmpty())) {
                continue;
            }
            current.append(line).append('\n');
            inBody ^= dollarQuotes(line) % 2 == 1;
            if (!inBody && trimmed.endsWith(";")) {
                String sql = current.toString().strip();
                result.add(sql.substring(0, sql.length() - 1));
                current.setLength(0);
            }
        }
        return result;
    }

    private static int dollarQuotes(String line) {
        int count = 0;
        for (int i = line.indexOf("$$"); i >= 0; i = line.indexOf("$$", i + 2)) {
            count++;
        }
        return count;
    }

    private static String read(String resource) {
        try (InputStream in = EventsyncSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource + " in eventsync-jdbc");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }
}
