package io.eventsync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.StringValue;
import io.eventsync.EventsyncException;
import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.envelope.Events;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.junit5.OpenTelemetryExtension;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The writer's stamp and the relay's PRODUCER span, with the SDK installed as the global OpenTelemetry. */
class TracingTest {
    @RegisterExtension
    static final OpenTelemetryExtension otel = OpenTelemetryExtension.create();

    private final Tracer tracer = otel.getOpenTelemetry().getTracer("test");

    private static Envelope event() {
        return Events.create("shop", "order-1", 1, StringValue.of("placed"));
    }

    /** The far side of the relay: keeps what it was sent; fails while {@code failing}. */
    private static final class Sink implements Publisher {
        final List<OutboundEvent> sent = new CopyOnWriteArrayList<>();
        volatile boolean failing;

        @Override
        public CompletableFuture<Void> send(OutboundEvent event) {
            if (failing) {
                return CompletableFuture.failedFuture(new EventsyncException("broker down"));
            }
            sent.add(event);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public String transport() {
            return "kafka";
        }

        @Override
        public String destination() {
            return "orders";
        }

        @Override
        public int maxEventBytes() {
            return 1 << 20;
        }

        @Override
        public void close() {}
    }

    private static Envelope tracedBy(Span span, Envelope e) {
        Map<String, String> headers = new HashMap<>();
        W3CTraceContextPropagator.getInstance().inject(Context.root().with(span), headers, Map::put);
        return e.toBuilder().setTraceparent(headers.get("traceparent")).build();
    }

    @Test
    void theCurrentSpansW3cContextIsAppendedToAnEventWithoutOne() throws Exception {
        Envelope e = event();
        Span writer = tracer.spanBuilder("writer")
                .setParent(Context.root().with(Span.wrap(SpanContext.createFromRemoteParent(
                        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", TraceFlags.getSampled(),
                        TraceState.builder().put("vendor", "v1").build()))))
                .startSpan();
        byte[] stamped;
        try (Scope ignored = writer.makeCurrent()) {
            stamped = Tracing.stamp(e, e.toByteArray(), 1 << 20);
        } finally {
            writer.end();
        }
        Envelope read = Envelope.parseFrom(stamped);
        assertThat(read.getTraceparent()).isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-"
                + writer.getSpanContext().getSpanId() + "-01");
        assertThat(read.getTracestate()).isEqualTo("vendor=v1");
        assertThat(read.toBuilder().clearTraceparent().clearTracestate().build()).isEqualTo(e);
    }

    @Test
    void anEventIsLeftAsItIsWithoutASpanWithItsOwnContextOrWhenTheContextWouldNotFit() {
        Envelope e = event();
        byte[] bytes = e.toByteArray();
        assertThat(Tracing.stamp(e, bytes, 1 << 20)).isSameAs(bytes); // no span current
        Span writer = tracer.spanBuilder("writer").startSpan();
        try (Scope ignored = writer.makeCurrent()) {
            Envelope own = e.toBuilder().setTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").build();
            byte[] ownBytes = own.toByteArray();
            assertThat(Tracing.stamp(own, ownBytes, 1 << 20)).isSameAs(ownBytes);
            assertThat(Tracing.stamp(e, bytes, bytes.length + 10)).isSameAs(bytes);
        } finally {
            writer.end();
        }
    }

    @Test
    void aTracedSendIsAProducerSpanChildOfTheWriterAndTheEventCarriesItsContext() throws Exception {
        Sink sink = new Sink();
        Publisher publisher = Tracing.producer(sink);
        Span writer = tracer.spanBuilder("writer").startSpan();
        Envelope e;
        try (Scope ignored = writer.makeCurrent()) {
            e = Envelope.parseFrom(Tracing.stamp(event(), event().toByteArray(), 1 << 20));
        } finally {
            writer.end();
        }

        publisher.send(new OutboundEvent(e, e.toByteArray())).get();

        SpanData producer = otel.getSpans().stream().filter(s -> s.getKind() == SpanKind.PRODUCER).findFirst().orElseThrow();
        assertThat(producer.getName()).isEqualTo("send orders");
        assertThat(producer.getTraceId()).isEqualTo(writer.getSpanContext().getTraceId());
        assertThat(producer.getParentSpanId()).isEqualTo(writer.getSpanContext().getSpanId());
        assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.system"))).isEqualTo("kafka");
        assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.destination.name"))).isEqualTo("orders");
        assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.operation.type"))).isEqualTo("send");
        assertThat(producer.getAttributes().get(AttributeKey.stringKey("messaging.message.id"))).isEqualTo(e.getId());
        OutboundEvent sent = sink.sent.get(0);
        String expected = "00-" + producer.getTraceId() + "-" + producer.getSpanId() + "-"
                + producer.getSpanContext().getTraceFlags().asHex();
        assertThat(sent.envelope().getTraceparent()).isEqualTo(expected);
        assertThat(Envelope.parseFrom(sent.bytes()).getTraceparent()).isEqualTo(expected);
        assertThat(Envelope.parseFrom(sent.bytes()).toBuilder().clearTraceparent().build())
                .isEqualTo(e.toBuilder().clearTraceparent().build());
    }

    @Test
    void aFailedSendEndsItsSpanAsAnErrorAndUntracedEventsAndHeartbeatsMakeNone() throws Exception {
        Sink sink = new Sink();
        Publisher publisher = Tracing.producer(sink);
        Envelope untraced = event();
        publisher.send(new OutboundEvent(untraced, untraced.toByteArray())).get();
        publisher.sendToAllPartitions(new OutboundEvent(untraced, untraced.toByteArray())).get();
        assertThat(sink.sent.get(0).bytes()).isEqualTo(untraced.toByteArray());
        assertThat(otel.getSpans()).isEmpty();

        Span writer = tracer.spanBuilder("writer").startSpan();
        Envelope traced = tracedBy(writer, untraced);
        writer.end();
        sink.failing = true;
        assertThat(publisher.send(new OutboundEvent(traced, traced.toByteArray()))).isCompletedExceptionally();
        SpanData producer = otel.getSpans().stream().filter(s -> s.getKind() == SpanKind.PRODUCER).findFirst().orElseThrow();
        assertThat(producer.hasEnded()).isTrue();
        assertThat(producer.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(producer.getEvents()).anyMatch(ev -> ev.getName().equals("exception"));
    }

    @Test
    void theConsumerScopeAsksItsDelegateWhetherItRefusesParkedKeys() {
        DeadLetterStore store = new InMemoryDeadLetters();
        ApplyScope refusing = new ApplyScope() {
            @Override
            public io.eventsync.handler.Outcome apply(io.eventsync.dispatch.Invocation invocation) throws Exception {
                return invocation.proceed();
            }

            @Override
            public boolean refusesParkedKeys(DeadLetterStore deadLetters) {
                return deadLetters == store;
            }
        };
        assertThat(Tracing.consumer(refusing).refusesParkedKeys(store)).isTrue();
        assertThat(Tracing.consumer(refusing).refusesParkedKeys(new InMemoryDeadLetters())).isFalse();
        assertThat(Tracing.consumer(ApplyScope.DIRECT).refusesParkedKeys(store)).isFalse();
    }
}
