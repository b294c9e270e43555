package io.eventsync.http;

/** The transport contract over HTTP with the source log and the copy's offsets on PostgreSQL. */
class HttpTransportContractPostgresTest extends HttpTransportContractTest {
    @Override
    TestDb.Kind kind() {
        return TestDb.Kind.POSTGRES;
    }
}
