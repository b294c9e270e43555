package io.eventsync.jdbc;

import io.eventsync.transport.Transport;
import io.eventsync.transport.TransportContract;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;

/** The transport contract on the embedded log in Postgres. "Restarting the broker" reopens the log on the same database. */
class EmbeddedLogOnPostgresContractTest extends TransportContract {
    private static TestDatabase db;

    @Override
    protected Transport newTransport() {
        if (db == null) {
            db = TestDatabase.create(TestDatabase.Kind.POSTGRES);
        }
        return EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names())
                .leaseDuration(Duration.ofSeconds(2)).build();
    }

    @AfterAll
    static void drop() {
        if (db != null) {
            db.close();
            db = null;
        }
    }
}
