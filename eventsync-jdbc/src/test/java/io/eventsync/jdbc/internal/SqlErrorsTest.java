package io.eventsync.jdbc.internal;

import static io.eventsync.jdbc.internal.SqlErrors.Kind.PERMANENT;
import static io.eventsync.jdbc.internal.SqlErrors.Kind.TRANSIENT;
import static org.assertj.core.api.Assertions.assertThat;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * The classification table, one row per condition, with the SQLState and vendor code each driver
 * reports for it (as seen from PostgreSQL 15, MariaDB 10.11 and H2 2.x). The real databases raise
 * these in DatabaseErrorsDatabaseTest; this pins the rows nobody can provoke cheaply.
 */
class SqlErrorsTest {

    private static SqlErrors.Kind kind(Dialect dialect, String state, int code) {
        return dialect.classify(new SQLException("test", state, code));
    }

    @Test
    void dataExceptionsAreNeverRetried() {
        assertThat(kind(Dialect.POSTGRES, "22001", 0)).isEqualTo(PERMANENT);   // value too long
        assertThat(kind(Dialect.POSTGRES, "22021", 0)).isEqualTo(PERMANENT);   // U+0000 in text
        assertThat(kind(Dialect.POSTGRES, "22023", 0)).isEqualTo(PERMANENT);   // driver: zero byte in a parameter
        assertThat(kind(Dialect.POSTGRES, "22P02", 0)).isEqualTo(PERMANENT);   // invalid text representation
        assertThat(kind(Dialect.H2, "22001", 22001)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.H2, "22018", 22018)).isEqualTo(PERMANENT);     // data conversion
        assertThat(kind(Dialect.MARIADB, "22001", 1406)).isEqualTo(PERMANENT); // data too long
        assertThat(kind(Dialect.MARIADB, "HY000", 1366)).isEqualTo(PERMANENT); // incorrect string value
        assertThat(kind(Dialect.MARIADB, "01000", 1265)).isEqualTo(PERMANENT); // data truncated (strict mode)
        assertThat(kind(Dialect.MARIADB, "HY000", 1364)).isEqualTo(PERMANENT); // no default for NOT NULL
    }

    @Test
    void violationsOfTheRowItselfArePermanentForeignKeysWaitForTheirParent() {
        assertThat(kind(Dialect.POSTGRES, "23505", 0)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.POSTGRES, "23502", 0)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.POSTGRES, "23514", 0)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.H2, "23505", 23505)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.H2, "23513", 23513)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.MARIADB, "23000", 1062)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.MARIADB, "23000", 1048)).isEqualTo(PERMANENT);
        assertThat(kind(Dialect.MARIADB, "23000", 4025)).isEqualTo(PERMANENT);

        assertThat(kind(Dialect.POSTGRES, "23503", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.H2, "23506", 23506)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.MARIADB, "23000", 1452)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.MARIADB, "23000", 1451)).isEqualTo(TRANSIENT);
    }

    @Test
    void connectionSerializationAndLockFailuresAreRetried() {
        assertThat(kind(Dialect.POSTGRES, "08006", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.POSTGRES, "40001", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.POSTGRES, "40P01", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.POSTGRES, "57P01", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.POSTGRES, "55P03", 0)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.MARIADB, "40001", 1213)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.MARIADB, "HY000", 1205)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.MARIADB, "08000", -1)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.H2, "HYT00", 50200)).isEqualTo(TRANSIENT);
        assertThat(kind(Dialect.H2, "40001", 40001)).isEqualTo(TRANSIENT);
        assertThat(SqlErrors.classify(null, new SQLException("pool timed out", (String) null))).isEqualTo(TRANSIENT);
    }

    @Test
    void theStatementsErrorBehindABatchFailureDecides() {
        BatchUpdateException batch = new BatchUpdateException("Batch entry 0 was aborted", "22001", new int[0]);
        assertThat(Dialect.POSTGRES.classify(batch)).isEqualTo(PERMANENT);

        BatchUpdateException vague = new BatchUpdateException("Batch entry 0 was aborted", (String) null, new int[0]);
        vague.setNextException(new SQLException("value too long", "22001"));
        assertThat(Dialect.POSTGRES.classify(vague)).isEqualTo(PERMANENT);
        assertThat(SqlErrors.describe(vague)).isEqualTo("SQLState 22001: value too long");
    }

    @Test
    void theReasonNamesTheVendorCodeOnlyWhereItAddsSomething() {
        assertThat(SqlErrors.describe(new SQLException("Data too long for column 'a'", "22001", 1406)))
                .isEqualTo("SQLState 22001, error 1406: Data too long for column 'a'");
        assertThat(SqlErrors.describe(new SQLException("Value too long", "22001", 22001)))
                .isEqualTo("SQLState 22001: Value too long");
    }
}
