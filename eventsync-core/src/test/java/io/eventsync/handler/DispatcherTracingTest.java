package io.eventsync.handler;

import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.Invocation;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dispatcher's CONSUMER span per apply, with the OpenTelemetry SDK installed as the global one and
 * its spans kept in memory.
 */
class DispatcherTracingTest {
    @RegisterExtension
    static final OpenTelemetryExtension otel = OpenTelemetryExtension.create();

    private final Fixture f = new Fixture();
    private final Tracer tracer = otel.getOpenTelemetry().getTracer("test");

    @AfterEach
    void close() {
    }

    /** {@code e} as a writer inside {@code span} would have stored it. */
    static Envelope tracedBy(Span span, Envelope e) {
        Map<String, String> headers = new HashMap<>();
        W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), headers, Map::put);
        return e.toBuilder().setTraceparent(headers.get("traceparent")).build();
    }

    /** A scope that only proceeds: a unit of work of its own, unlike {@link ApplyScope#DIRECT}. */
    private static final ApplyScope PROCEED = Invocation::proceed;

    private HandlerRegistry handlerStartingASpan(Outcome outcome) {
        return HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            tracer.spanBuilder("handler work").startSpan().end(); // a child of whatever is current
            f.record(step, ctx.envelope());
            return outcome;
        }, fast()).build();
    }

    private static SpanData named(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void applyIsAConsumerSpanChildOfTheEnvelopesContextAndParentOfTheHandlersSpans() throws Exception {
        f.start(f.builder(handlerStartingASpan(Outcome.applied())).applyScope(PROCEED));
        Span writer = tracer.spanBuilder("writer").startSpan();
        Envelope e = tracedBy(writer, event("k", 1));
        writer.end();

        f.deliver("p0", e);

        await().untilAsserted(() -> assertThat(otel.getSpans()).hasSize(3));
        List<SpanData> spans = otel.getSpans();
        SpanData consumer = named(spans, "process " + f.subscription);
        SpanData work = named(spans, "handler work");
        assertThat(consumer.getKind()).isEqualTo(SpanKind.CONSUMER);
        assertThat(consumer.getTraceId()).isEqualTo(writer.getSpanContext().getTraceId());
        assertThat(consumer.getParentSpanId()).isEqualTo(writer.getSpanContext().getSpanId());
        assertThat(consumer.getParentSpanContext().isRemote()).isTrue();
        assertThat(work.getParentSpanId()).isEqualTo(consumer.getSpanId());
        assertThat(work.getTraceId()).isEqualTo(consumer.getTraceId());
        assertThat(consumer.getAttributes().get(AttributeKey.stringKey("messaging.consumer.group.name")))
                .isEqualTo(f.subscription);
        assertThat(consumer.getAttributes().get(AttributeKey.stringKey("messaging.message.id"))).isEqualTo(e.getId());
        assertThat(consumer.getAttributes().get(AttributeKey.stringKey("messaging.operation.type"))).isEqualTo("process");
        assertThat(consumer.getAttributes().get(AttributeKey.stringKey("messaging.destination.partition.id")))
                .isEqualTo("p0");
        assertThat(consumer.getAttributes().get(AttributeKey.longKey("eventsync.offset"))).isEqualTo(0L);
        assertThat(consumer.getAttributes().get(AttributeKey.stringKey("eventsync.outcome"))).isEqualTo("applied");
    }

    @Test
    void aRejectedEventsSpanIsAnError() throws Exception {
        f.start(f.builder(handlerStartingASpan(Outcome.reject("not for us"))).applyScope(PROCEED));
        Span writer = tracer.spanBuilder("writer").startSpan();
        Envelope e = tracedBy(writer, event("k", 1));
        writer.end();

        f.deliver("p0", e);

        await().untilAsserted(() -> assertThat(f.isDeadLettered(e.getId())).isTrue());
        await().untilAsserted(() -> assertThat(otel.getSpans()).hasSize(3));
        SpanData consumer = named(otel.getSpans(), "process " + f.subscription);
        assertThat(consumer.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(consumer.getStatus().getDescription()).isEqualTo("not for us");
    }

    @Test
    void followUpsWithTheDirectScopeAreTracedToo() throws Exception {
        List<Envelope> followUps = new CopyOnWriteArrayList<>();
        f.start(f.builder(handlerStartingASpan(Outcome.applied())).followUps(followUps::addAll));
        Span writer = tracer.spanBuilder("writer").startSpan();
        f.deliver("p0", tracedBy(writer, event("k", 1)));
        writer.end();

        await().untilAsserted(() -> assertThat(otel.getSpans()).hasSize(3));
        assertThat(named(otel.getSpans(), "handler work").getParentSpanId())
                .isEqualTo(named(otel.getSpans(), "process " + f.subscription).getSpanId());
    }

    @Test
    void anUntracedEventOrTracingTurnedOffMakesNoSpan() throws Exception {
        f.start(f.builder(handlerStartingASpan(Outcome.applied())).applyScope(PROCEED).tracing(false));
        Span writer = tracer.spanBuilder("writer").startSpan();
        Envelope traced = tracedBy(writer, event("k", 1));
        writer.end();
        f.deliver("p0", traced);
        await().untilAsserted(() -> assertThat(f.appliedSteps("k")).containsExactly(1L));

        Fixture untraced = new Fixture();
        try (untraced) {
            untraced.start(untraced.builder(HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
                untraced.record(step, ctx.envelope());
                return Outcome.applied();
            }, fast()).build()).applyScope(PROCEED));
            untraced.deliver("p0", event("k", 1));
            await().untilAsserted(() -> assertThat(untraced.appliedSteps("k")).containsExactly(1L));
        }
        // The writer's own span and the handler's (a root span: nothing was current) only.
        assertThat(otel.getSpans()).extracting(SpanData::getName).containsExactlyInAnyOrder("writer", "handler work");
        assertThat(otel.getSpans()).allMatch(s -> s.getKind() == SpanKind.INTERNAL);
    }
}
