package io.eventsync.jdbc;

import io.eventsync.transport.Publisher;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One trace from the writer's span to the copy's apply across the embedded log (H2). */
class TracingOnEmbeddedLogTest {
    @RegisterExtension
    static final OpenTelemetryExtension otel = OpenTelemetryExtension.create();

    @Test
    void theWritersTraceRunsThroughTheRelaysSendToTheCopysApply() throws Exception {
        try (TestDatabase logDb = TestDatabase.create(TestDatabase.Kind.H2);
             EmbeddedLog log = EmbeddedLog.builder().dataSource(logDb.dataSource()).names(logDb.names())
                     .leaseDuration(Duration.ofSeconds(2)).build();
             Publisher publisher = log.publisher("accounts")) {
            OneTrace.fromWriterToCopy(otel, log, publisher, "accounts", "log");
        }
    }
}
