package io.eventsync.jdbc;

/** The hostile-input contract with the embedded log on H2. */
class EmbeddedLogOnH2HostileInputTest extends EmbeddedLogHostileInputContract {
    @Override
    TestDatabase.Kind kind() {
        return TestDatabase.Kind.H2;
    }
}
