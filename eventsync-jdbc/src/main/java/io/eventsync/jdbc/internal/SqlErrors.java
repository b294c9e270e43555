package io.eventsync.jdbc.internal;

import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which database errors a retry can fix, per dialect, in one place. Reached through
 * {@link Dialect#classify}; everything not listed as permanent is transient (the dispatcher retries
 * it with backoff and dead-letters it after the last attempt), so an error nobody thought of is
 * never dropped, only retried.
 *
 * <p><b>Permanent</b>: the statement fails the same way every time it runs with the same values.
 * <ul>
 *   <li>data exceptions, SQLState class {@code 22}: a string too long for its column (22001), a
 *       number out of range (22003), an invalid date (22007/22008), a character the column's encoding
 *       cannot hold (22021: PostgreSQL refuses U+0000 in text; the driver reports its own refusal as
 *       22023), a bad cast (22P02, 22018);</li>
 *   <li>integrity violations, SQLState class {@code 23}, that depend on the row itself: not null
 *       (23502), check (23514, H2 23513), and unique or primary key (23505, MariaDB 1062). A unique
 *       violation in a copy table means two source rows claim one copy row (a unique column of the
 *       copy that the source does not enforce): no retry makes them fit. The duplicate eventsync
 *       relies on, the inbox row of an event applied before, never gets here: {@code Inbox.record}
 *       turns it into a skip;</li>
 *   <li>MariaDB's vendor codes for the same conditions, reported with SQLState {@code HY000} or
 *       {@code 01000} in strict mode: 1366 incorrect string value, 1265 data truncated, 1364 no
 *       default for a NOT NULL column, 1406 data too long, 1264 out of range, 1292 incorrect value,
 *       1048 column cannot be null, 4025/3819 check constraint.</li>
 * </ul>
 *
 * <p><b>Transient</b> (retried): connection failures (class {@code 08}, a pool that timed out),
 * serialization failures and deadlocks (40001, PostgreSQL 40P01, MariaDB 1213), lock timeouts
 * (MariaDB 1205, PostgreSQL 55P03, H2 HYT00), a cancelled statement (57014), a server shutting down
 * (57P01..57P03), insufficient resources (class {@code 53}), and <b>foreign key violations</b>
 * (23503, 23001, MariaDB 1451/1452/1216/1217, H2 23506): eventsync orders events per key, not across
 * keys or topics, so a copy row whose parent is another key's row often arrives first; the parent's
 * event fixes it, and a retry then succeeds.
 */
public final class SqlErrors {

    /** What a retry can do about an error. */
    public enum Kind { PERMANENT, TRANSIENT }

    private static final Set<String> PERMANENT_INTEGRITY = Set.of("23502", "23505", "23513", "23514", "23P01");
    private static final Set<String> FOREIGN_KEY = Set.of("23001", "23503", "23506");
    private static final Set<Integer> MARIADB_PERMANENT = Set.of(1048, 1062, 1264, 1265, 1292, 1364, 1366, 1406,
            3819, 4025);
    private static final Set<Integer> MARIADB_FOREIGN_KEY = Set.of(1216, 1217, 1451, 1452);

    private SqlErrors() {}

    /**
     * Classifies {@code e} for {@code dialect} (null when the database is not known: the standard
     * SQLState classes alone decide). Looks at {@code e}, its causes and its chained exceptions (a
     * batch reports the statement's error as the next exception): any permanent one decides.
     */
    public static Kind classify(Dialect dialect, SQLException e) {
        for (SQLException x : chain(e)) {
            if (isPermanent(dialect, x)) {
                return Kind.PERMANENT;
            }
        }
        return Kind.TRANSIENT;
    }

    /** The first {@link SQLException} in {@code t}'s cause chain, {@code t} included. */
    public static Optional<SQLException> find(Throwable t) {
        for (Throwable x = t; x != null; x = x.getCause() == x ? null : x.getCause()) {
            if (x instanceof SQLException s) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** The database's reason in one line: SQLState, vendor code where it means something, message. */
    public static String describe(SQLException e) {
        SQLException decisive = e;
        for (SQLException x : chain(e)) {
            if (x.getSQLState() != null) {
                decisive = x;
                break;
            }
        }
        int vendor = decisive.getErrorCode();
        // H2's codes repeat the SQLState; MariaDB's (1406, 1366) say what its SQLState does not.
        String code = vendor != 0 && !String.valueOf(vendor).equals(decisive.getSQLState()) ? ", error " + vendor : "";
        return "SQLState " + decisive.getSQLState() + code + ": " + decisive.getMessage();
    }

    private static boolean isPermanent(Dialect dialect, SQLException e) {
        String state = e.getSQLState();
        if (dialect == Dialect.MARIADB) {
            int code = e.getErrorCode();
            if (MARIADB_FOREIGN_KEY.contains(code)) {
                return false;
            }
            if (MARIADB_PERMANENT.contains(code)) {
                return true;
            }
        }
        if (state == null || state.length() != 5) {
            return false;
        }
        if (state.startsWith("22")) {
            return true;
        }
        if (state.startsWith("23")) {
            if (FOREIGN_KEY.contains(state)) {
                return false;
            }
            // MariaDB reports every integrity error as 23000; its codes decided above. Elsewhere 23000
            // is a generic integrity violation of the row.
            return dialect != Dialect.MARIADB && (state.equals("23000") || PERMANENT_INTEGRITY.contains(state));
        }
        return false;
    }

    /** {@code e}, then its causes and next exceptions, each once. */
    private static List<SQLException> chain(SQLException e) {
        List<SQLException> out = new ArrayList<>();
        ArrayDeque<SQLException> todo = new ArrayDeque<>();
        todo.add(e);
        while (!todo.isEmpty() && out.size() < 16) {
            SQLException x = todo.poll();
            if (out.stream().anyMatch(seen -> seen == x)) {
                continue;
            }
            out.add(x);
            if (x.getCause() instanceof SQLException cause) {
                todo.add(cause);
            }
            if (x.getNextException() != null) {
                todo.add(x.getNextException());
            }
        }
        return out;
    }
}
