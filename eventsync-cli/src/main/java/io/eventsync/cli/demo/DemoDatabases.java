package io.eventsync.cli.demo;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The demo's three databases: H2 files in the demo directory, or fresh schemas (PostgreSQL) /
 * databases (MariaDB) named {@code esdemo_<run>_<service>} on a server.
 */
final class DemoDatabases {
    private final Path dir;
    private final Infrastructure infra;
    private final String run;

    DemoDatabases(Path dir, Infrastructure infra, String run) {
        this.dir = dir;
        this.infra = infra;
        this.run = run;
    }

    /** Creates a service's schema (PostgreSQL) or database (MariaDB) on the server; H2 files need nothing. */
    private void create(String service) throws SQLException {
        if (infra.db() == null) {
            return;
        }
        String name = "esdemo_" + run + "_" + service;
        try (Connection c = DriverManager.getConnection(infra.jdbcUrlOrDefault(), infra.userOrDefault(),
                infra.password() == null ? "" : infra.password()); Statement st = c.createStatement()) {
            st.execute(infra.db().equals("postgres") ? "CREATE SCHEMA " + name : "CREATE DATABASE " + name);
        }
    }

    /**
     * Drops every demo schema (PostgreSQL) or database (MariaDB) on the server, of every run: names that
     * start with {@code esdemo_}. Returns the names dropped.
     */
    static java.util.List<String> dropAll(Infrastructure infra) throws SQLException {
        java.util.List<String> names = new java.util.ArrayList<>();
        try (Connection c = DriverManager.getConnection(infra.jdbcUrlOrDefault(), infra.userOrDefault(),
                infra.password() == null ? "" : infra.password()); Statement st = c.createStatement()) {
            boolean postgres = infra.db().equals("postgres");
            // A MariaDB database is a schema here too; '\\_' matches the underscore itself.
            try (java.sql.ResultSet rs = st.executeQuery(
                    "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'esdemo\\_%' ORDER BY 1")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            for (String name : names) {
                // Names come from the catalog and match esdemo_<digits>_<service>: plain identifiers.
                st.execute(postgres ? "DROP SCHEMA " + name + " CASCADE" : "DROP DATABASE " + name);
            }
        }
        return names;
    }

    HikariDataSource open(String service, int poolSize) throws SQLException {
        HikariConfig config = new HikariConfig();
        config.setPoolName("eventsync-demo-" + service);
        config.setMaximumPoolSize(poolSize);
        if (infra.db() == null) {
            // async: stores through AsynchronousFileChannel, which a thread interrupt cannot close. With the
            // default file channel, interrupting a handler in the middle of H2 I/O (a timeout) closes the
            // database file for every connection ("ClosedChannelException") and the copy is dead.
            config.setJdbcUrl("jdbc:h2:async:" + dir.toAbsolutePath().resolve(service) + ";DB_CLOSE_ON_EXIT=FALSE");
            config.setUsername("sa");
            config.setPassword("");
        } else {
            create(service);
            config.setJdbcUrl(url(service));
            config.setUsername(infra.userOrDefault());
            config.setPassword(infra.password() == null ? "" : infra.password());
        }
        return new HikariDataSource(config);
    }

    /** The URL to open a service's database with once the demo has ended. */
    String url(String service) {
        if (infra.db() == null) {
            return "jdbc:h2:file:" + dir.toAbsolutePath().resolve(service);
        }
        String name = "esdemo_" + run + "_" + service;
        String base = infra.jdbcUrlOrDefault();
        if (infra.db().equals("postgres")) {
            return base + (base.contains("?") ? "&" : "?") + "currentSchema=" + name;
        }
        // jdbc:mariadb://host:port/db?params: replace the database.
        int slash = base.indexOf('/', "jdbc:mariadb://".length());
        int query = base.indexOf('?');
        String params = query < 0 ? "" : base.substring(query);
        return (slash < 0 ? base : base.substring(0, slash)) + "/" + name + params;
    }

    String description() {
        return infra.db() == null ? "H2 files" : infra.db() + " (" + "esdemo_" + run + "_*)";
    }
}
