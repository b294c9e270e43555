package io.eventsync.http;

/** The feed endpoint tests with the source log on the real PostgreSQL service. */
class FeedServerPostgresTest extends FeedServerTest {
    @Override
    TestDb.Kind kind() {
        return TestDb.Kind.POSTGRES;
    }
}
