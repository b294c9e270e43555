package io.eventsync.verify.internal;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.CopyRepair;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.verify.KeyDifference;
import io.eventsync.verify.KeyRepair;
import io.eventsync.verify.TableDiff;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes the copy equal to the source for one confirmed difference, through {@link CopyRepair} (the
 * copy table's version guard and tombstones): the source's row at the source's version, or the
 * deletion of a copy row at the version it was compared at. Each key in its own transaction; a dry
 * run rolls it back.
 */
final class Repairer {
    private final TableDiff.Repair mode;
    private final Side source;
    private final Side copy;
    private final CopyRepair repair;
    private final Findings findings;

    Repairer(TableDiff.Repair mode, Side source, Side copy, SchemaNames copyNames, Findings findings) {
        this.mode = mode;
        this.source = source;
        this.copy = copy;
        this.findings = findings;
        ResolvedTable t = copy.table;
        // CopyTable keeps its table beside eventsync's tables (the tombstones): the schema the table was found in.
        SchemaNames names = copyNames.schema() != null || t.schema() == null ? copyNames
                : new SchemaNames(t.schema(), copyNames.prefix());
        this.repair = CopyRepair.of(t.name(), List.of(t.key().name()), t.version().name(), names);
    }

    void repair(KeyDifference.Kind kind, Candidate c) throws SQLException {
        KeyRepair result;
        try {
            result = kind == KeyDifference.Kind.EXTRA_IN_COPY ? delete(c) : upsert(kind, c);
        } catch (SQLException e) {
            if (isMissingTable(e)) {
                throw new ConfigException("repair needs eventsync's copy_tombstones table beside the copy table "
                        + copy.table.qualified() + " (the database says: " + e.getMessage() + "); install eventsync's"
                        + " schema in the copy's database (eventsync schema install) or name its schema (--copy-schema)", e);
            }
            throw e;
        }
        findings.repaired(result);
    }

    /** PostgreSQL 42P01, MariaDB and H2 42S02 (H2 also 42102): the statement names a table that does not exist. */
    private static boolean isMissingTable(SQLException e) {
        String state = String.valueOf(e.getSQLState());
        return state.equals("42P01") || state.equals("42S02") || e.getErrorCode() == 42102 || e.getErrorCode() == 1146;
    }

    private KeyRepair upsert(KeyDifference.Kind kind, Candidate c) throws SQLException {
        Row s = c.source();
        if (s.version() == null) {
            return new KeyRepair(c.keyText(), kind, KeyRepair.Action.UPSERT, KeyRepair.Outcome.KEPT,
                    "kept: the source row has no version (" + source.table.version().name() + " is NULL)");
        }
        long version = s.version();
        Object key = c.copy() != null ? c.copy().rawKey() : copyValue(copy.table.key(), s.rawKey());
        Map<String, Object> values = new LinkedHashMap<>();
        List<ResolvedTable.Column> columns = copy.table.columns();
        for (int i = 0; i < columns.size(); i++) {
            ResolvedTable.Column column = columns.get(i);
            if (!column.name().equals(copy.table.version().name()) && !column.name().equals(copy.table.key().name())) {
                values.putIfAbsent(column.name(), copyValue(column, s.raw().get(i)));
            }
        }
        return outcome(c.keyText(), kind, KeyRepair.Action.UPSERT,
                inTransaction(conn -> repair.upsert(conn, List.of(key), values, version)));
    }

    private KeyRepair delete(Candidate c) throws SQLException {
        KeyDifference.Kind kind = KeyDifference.Kind.EXTRA_IN_COPY;
        Long version = c.copy().version();
        if (version == null) {
            return new KeyRepair(c.keyText(), kind, KeyRepair.Action.DELETE, KeyRepair.Outcome.KEPT,
                    "kept: the copy row has no version (" + copy.table.version().name() + " is NULL)");
        }
        return outcome(c.keyText(), kind, KeyRepair.Action.DELETE,
                inTransaction(conn -> repair.delete(conn, List.of(c.copy().rawKey()), version)));
    }

    private KeyRepair outcome(String key, KeyDifference.Kind kind, KeyRepair.Action action, CopyRepair.Change change) {
        KeyRepair.Outcome outcome = !change.changed() ? KeyRepair.Outcome.KEPT
                : mode == TableDiff.Repair.DRY_RUN ? KeyRepair.Outcome.WOULD_CHANGE : KeyRepair.Outcome.CHANGED;
        return new KeyRepair(key, kind, action, outcome, change.detail());
    }

    private Object copyValue(ResolvedTable.Column column, Object value) {
        return KeyValues.forColumn(copy.table.dialect(), column.kind(), value);
    }

    @FunctionalInterface
    private interface Work {
        CopyRepair.Change run(Connection c) throws SQLException;
    }

    /**
     * Runs one key's repair in its own transaction: committed, or for a dry run rolled back, so that a dry
     * run takes the very decisions of the guarded statements (including tombstones) and writes nothing.
     */
    private CopyRepair.Change inTransaction(Work work) throws SQLException {
        Connection conn = copy.connection();
        boolean autoCommit = conn.getAutoCommit();
        conn.setAutoCommit(false);
        try {
            CopyRepair.Change change = work.run(conn);
            if (mode == TableDiff.Repair.DRY_RUN) {
                conn.rollback();
            } else {
                conn.commit();
            }
            return change;
        } catch (SQLException | RuntimeException e) {
            try {
                conn.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        } finally {
            conn.setAutoCommit(autoCommit);
        }
    }
}
