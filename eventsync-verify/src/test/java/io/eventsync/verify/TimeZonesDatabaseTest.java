package io.eventsync.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.jdbc.TestDatabase;
import io.eventsync.jdbc.TestDatabase.Kind;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Instants compare in UTC whatever the sessions' time zones: PostgreSQL's timestamptz, MariaDB's
 * TIMESTAMP (shown in the session's zone) and H2's TIMESTAMP WITH TIME ZONE (stored with an offset).
 */
@Tag("database")
class TimeZonesDatabaseTest {
    private static final TableProjection EVENTS = TableProjection.of("events", "id", "at");

    @Test
    void theSameInstantsMatchAcrossZonesAndOneMicrosecondApartIsFound() throws Exception {
        try (TestDatabase pg = TestDatabase.create(Kind.POSTGRES); TestDatabase maria = TestDatabase.create(Kind.MARIADB);
             TestDatabase h2 = TestDatabase.create(Kind.H2)) {
            pg.execute("CREATE TABLE events (id INT PRIMARY KEY, at TIMESTAMPTZ)");
            maria.execute("CREATE TABLE events (id INT PRIMARY KEY, at TIMESTAMP(6) NULL)");
            h2.execute("CREATE TABLE events (id INT PRIMARY KEY, at TIMESTAMP(6) WITH TIME ZONE)");
            pg.execute("INSERT INTO events VALUES (1, '2026-06-01 10:00:00.000001+00'), (2, '2026-01-31 23:30:00+00'),"
                    + " (3, NULL)");
            try (Connection c = maria.dataSource().getConnection(); Statement st = c.createStatement()) {
                st.execute("SET time_zone = '+00:00'");
                st.execute("INSERT INTO events VALUES (1, '2026-06-01 10:00:00.000001'), (2, '2026-01-31 23:30:00'), (3, NULL)");
                st.execute("SET time_zone = 'SYSTEM'");
            }
            h2.execute("INSERT INTO events VALUES (1, TIMESTAMP WITH TIME ZONE '2026-06-01 12:00:00.000001+02:00'),"
                    + " (2, TIMESTAMP WITH TIME ZONE '2026-02-01 01:30:00+02:00'), (3, NULL)");

            try (Connection p = pg.dataSource().getConnection(); Connection m = maria.dataSource().getConnection();
                 Connection h = h2.dataSource().getConnection()) {
                zone(p, "SET TIME ZONE 'Asia/Tokyo'");
                zone(m, "SET time_zone = '+05:00'");
                assertThat(diff(p, m).verdict()).isEqualTo("MATCH");
                assertThat(diff(m, h).verdict()).isEqualTo("MATCH");
                assertThat(diff(h, p).verdict()).isEqualTo("MATCH");

                zone(m, "UPDATE events SET at = TIMESTAMPADD(MICROSECOND, 1, at) WHERE id = 2");
                DiffReport report = diff(p, m);
                assertThat(report.differences()).extracting(KeyDifference::key).containsExactly("2");
                assertThat(report.differences().get(0).source()).containsEntry("at", "2026-01-31 23:30:00");
                assertThat(report.differences().get(0).copy()).containsEntry("at", "2026-01-31 23:30:00.000001");
            }
        }
    }

    private static DiffReport diff(Connection source, Connection copy) throws SQLException {
        return TableDiff.builder().build().compare("events", source, EVENTS, copy, EVENTS);
    }

    private static void zone(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
