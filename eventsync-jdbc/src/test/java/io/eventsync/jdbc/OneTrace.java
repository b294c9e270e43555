package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Transport;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;

/**
 * One event from a writer's span to a copy, traced: the writer appends it to an H2 outbox inside its
 * span, a relay sends it through {@code publisher}, a dispatcher subscribed on {@code transport} applies
 * it to a copy table in another H2 database, and the handler starts a span of its own. The spans must
 * make one trace: writer, then the relay's PRODUCER span, then the copy's CONSUMER span, then the
 * handler's. Shared with the transports' tests through the test jar.
 */
public final class OneTrace {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    private OneTrace() {}

    /**
     * Runs the scenario and checks the trace; {@code system} and {@code destination} are what the
     * PRODUCER span must name ({@code messaging.system}, {@code messaging.destination.name}).
     */
    public static void fromWriterToCopy(OpenTelemetryExtension otel, Transport transport, Publisher publisher,
                                        String topic, String system) throws Exception {
        Tracer tracer = otel.getOpenTelemetry().getTracer("test");
        try (TestDatabase source = TestDatabase.create(TestDatabase.Kind.H2);
             TestDatabase copyDb = TestDatabase.create(TestDatabase.Kind.H2)) {
            CopyTable copy = Accounts.copyTable();
            copy.createTable(copyDb.dataSource());
            Handler<Message> apply = copy.handler();
            HandlerRegistry handlers = HandlerRegistry.builder().on(AccountChanged.getDescriptor(), (payload, ctx) -> {
                tracer.spanBuilder("handler work").startSpan().end();
                return apply.handle(payload, ctx);
            }, HandlerOptions.defaults()).build();
            String group = topic + "-copy";
            try (ConsumerRig consumer = new ConsumerRig(transport, topic, group, copyDb.dataSource(), handlers);
                 Relay relay = Relay.builder().dataSource(source.dataSource()).names(source.names())
                         .source(Accounts.SOURCE).publisher(publisher).leaseDuration(Duration.ofSeconds(2))
                         .heartbeatInterval(Duration.ofMillis(100)) // heartbeats must not make spans
                         .meterRegistry(new SimpleMeterRegistry()).build().start()) {
                Span writer = tracer.spanBuilder("place order").startSpan();
                try (Scope ignored = writer.makeCurrent(); Connection c = source.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of(Accounts.SOURCE, source.names()).append(c,
                            Accounts.event(Accounts.account("acc-1", 500), 1, 0));
                    c.commit();
                } finally {
                    writer.end();
                }

                await().atMost(DEADLINE).until(() -> otel.getSpans().size() >= 4);
                await().atMost(DEADLINE).until(() -> countIn(copyDb, "\"accounts_copy\"") == 1);
                List<SpanData> spans = otel.getSpans();
                assertThat(spans).hasSize(4);
                SpanData written = one(spans, SpanKind.INTERNAL, "place order");
                SpanData producer = one(spans, SpanKind.PRODUCER, "send " + topic);
                SpanData consumed = one(spans, SpanKind.CONSUMER, "process " + group);
                SpanData work = one(spans, SpanKind.INTERNAL, "handler work");

                assertThat(spans).extracting(SpanData::getTraceId).containsOnly(written.getTraceId());
                assertThat(producer.getParentSpanId()).isEqualTo(written.getSpanId());
                assertThat(consumed.getParentSpanId()).isEqualTo(producer.getSpanId());
                assertThat(work.getParentSpanId()).isEqualTo(consumed.getSpanId());

                assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.system"))).isEqualTo(system);
                assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")))
                        .isEqualTo(publisher.destination());
                String id = producer.getAttributes().get(AttributeKey.stringKey("messaging.message.id"));
                assertThat(consumed.getAttributes().get(AttributeKey.stringKey("messaging.message.id"))).isEqualTo(id);
                assertThat(consumed.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")))
                        .isEqualTo(group);
            }
        }
    }

    private static SpanData one(List<SpanData> spans, SpanKind kind, String name) {
        List<SpanData> found = spans.stream().filter(s -> s.getKind() == kind && s.getName().equals(name)).toList();
        assertThat(found).as("%s spans named '%s' in %s", kind, name, spans).hasSize(1);
        return found.get(0);
    }

    private static long countIn(TestDatabase db, String table) throws Exception {
        try (Connection c = db.dataSource().getConnection();
             var rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
