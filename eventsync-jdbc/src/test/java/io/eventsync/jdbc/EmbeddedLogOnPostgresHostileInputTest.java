package io.eventsync.jdbc;

/** The hostile-input contract with the embedded log on Postgres. */
class EmbeddedLogOnPostgresHostileInputTest extends EmbeddedLogHostileInputContract {
    @Override
    TestDatabase.Kind kind() {
        return TestDatabase.Kind.POSTGRES;
    }
}
