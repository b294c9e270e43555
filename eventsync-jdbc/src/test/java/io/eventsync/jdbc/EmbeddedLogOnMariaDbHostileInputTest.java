package io.eventsync.jdbc;

/** The hostile-input contract with the embedded log on MariaDb. */
class EmbeddedLogOnMariaDbHostileInputTest extends EmbeddedLogHostileInputContract {
    @Override
    TestDatabase.Kind kind() {
        return TestDatabase.Kind.MARIADB;
    }
}
