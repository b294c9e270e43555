package io.eventsync.jdbc;

/** The consumer-side eventsync tables for tests (same shape as the shipped DDL). */
final class TestSchema {
    private TestSchema() {}

    static void install(TestDb db) {
        String bin = switch (db.kind) {
            case POSTGRESQL -> "BYTEA";
            case MARIADB -> "LONGBLOB";
            case H2 -> "VARBINARY";
        };
        String text = db.kind == TestDb.Kind.MARIADB ? "LONGTEXT" : db.kind == TestDb.Kind.H2 ? "VARCHAR" : "TEXT";
        String ts = db.kind == TestDb.Kind.MARIADB ? "DATETIME(6)" : "TIMESTAMP WITH TIME ZONE";
        String q = db.kind == TestDb.Kind.MARIADB ? "`" : "\"";
        db.execute("CREATE TABLE IF NOT EXISTS " + q + "eventsync_inbox" + q + " (subscription VARCHAR(200) NOT NULL,"
                + " event_id VARCHAR(64) NOT NULL, source VARCHAR(200) NOT NULL, source_position BIGINT NOT NULL,"
                + " applied_at " + ts + " NOT NULL, PRIMARY KEY (subscription, event_id))");
        db.execute("CREATE INDEX " + q + "eventsync_inbox_pos" + q + " ON " + q + "eventsync_inbox" + q
                + " (subscription, source, source_position)");
        db.execute("CREATE TABLE IF NOT EXISTS " + q + "eventsync_dead_letters" + q + " (id VARCHAR(64) NOT NULL PRIMARY KEY,"
                + " subscription VARCHAR(200) NOT NULL, kind VARCHAR(16) NOT NULL, seq BIGINT NOT NULL,"
                + " event_id VARCHAR(64), event_key VARCHAR(500), event_type VARCHAR(500), payload " + bin + " NOT NULL,"
                + " reason " + text + " NOT NULL, error_chain " + text + ", attempts INT NOT NULL,"
                + " first_failure " + ts + " NOT NULL, last_failure " + ts + " NOT NULL)");
    }
}
