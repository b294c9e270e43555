package io.eventsync.cli.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * Names of eventsync's tables for the few read-only (and one reset) statements of the operations
 * commands that eventsync-jdbc has no API for. The tables are created quoted and lower-case by
 * {@code EventsyncSchema}, so they are quoted here the same way: backticks on MariaDB/MySQL.
 */
public record EventsyncTables(String open, String close, String schema) {

    public static EventsyncTables of(Connection c, String schema) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        boolean backticks = product.contains("mariadb") || product.contains("mysql");
        return backticks ? new EventsyncTables("`", "`", schema) : new EventsyncTables("\"", "\"", schema);
    }

    /** {@code "schema"."eventsync_<suffix>"}, or without the schema when none was given. */
    public String table(String suffix) {
        String name = open + "eventsync_" + suffix + close;
        return schema == null ? name : open + schema + close + "." + name;
    }
}
