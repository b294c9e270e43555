package io.eventsync.internal;

import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.util.concurrent.CompletableFuture;

/**
 * A relay's publisher that makes each send of a traced event (one with a {@code traceparent}) a
 * PRODUCER span, child of the context in the envelope, ended when the transport confirms or fails
 * the send. The event then leaves with the producer span's context in place of the writer's, so the
 * copy's CONSUMER span becomes its child: writer, relay, copy in one trace.
 *
 * <p>Untraced events, heartbeats, and every event while no OpenTelemetry SDK is installed go straight
 * through: no span, not even a no-op one.
 */
final class TracingPublisher implements Publisher {
    private final Publisher delegate;
    private final String spanName;

    TracingPublisher(Publisher delegate) {
        this.delegate = delegate;
        this.spanName = delegate.destination().isEmpty() ? "send" : "send " + delegate.destination();
    }

    @Override
    public CompletableFuture<Void> send(OutboundEvent event) {
        Envelope envelope = event.envelope();
        Tracer tracer = envelope.getTraceparent().isEmpty() ? null : Otel.tracer();
        if (tracer == null) {
            return delegate.send(event);
        }
        Span span = start(tracer, event);
        CompletableFuture<Void> sent;
        try (Scope ignored = span.makeCurrent()) {
            sent = delegate.send(withContextOf(span, event));
        } catch (RuntimeException | Error e) {
            Otel.fail(span, e);
            span.end();
            throw e;
        }
        sent.whenComplete((ok, failure) -> {
            if (failure != null) {
                Otel.fail(span, failure);
            }
            span.end();
        });
        return sent;
    }

    private Span start(Tracer tracer, OutboundEvent event) {
        Envelope envelope = event.envelope();
        SpanBuilder span = tracer.spanBuilder(spanName)
                .setSpanKind(SpanKind.PRODUCER)
                .setParent(Otel.parentOf(envelope))
                .setAttribute(Otel.OPERATION_TYPE, "send")
                .setAttribute(Otel.OPERATION_NAME, "send")
                .setAttribute(Otel.MESSAGE_ID, envelope.getId())
                .setAttribute(Otel.SUBJECT, envelope.getSubject())
                .setAttribute(Otel.BODY_SIZE, (long) event.bytes().length);
        if (!delegate.transport().isEmpty()) {
            span.setAttribute(Otel.MESSAGING_SYSTEM, delegate.transport());
        }
        if (!delegate.destination().isEmpty()) {
            span.setAttribute(Otel.DESTINATION, delegate.destination());
        }
        return span.startSpan();
    }

    /**
     * {@code event} carrying {@code span}'s context (envelope and bytes alike: a transport may map the
     * envelope's attributes to headers). Unchanged when the span has no valid context, or when the
     * longer event would be over the transport's limit: the trace then skips the relay, the event goes.
     */
    private OutboundEvent withContextOf(Span span, OutboundEvent event) {
        String[] fields = Otel.fieldsOf(Context.root().with(span));
        if (fields == null) {
            return event;
        }
        // Within the consumers' default decode limit too: a transport may take more than they read.
        byte[] bytes = Otel.append(event.bytes(), fields,
                Math.min(delegate.maxEventBytes(), io.eventsync.envelope.EnvelopeCodec.DEFAULT_MAX_BYTES));
        if (bytes == event.bytes()) {
            return event;
        }
        Envelope envelope = event.envelope().toBuilder()
                .setTraceparent(fields[0])
                .setTracestate(fields[1] == null ? event.envelope().getTracestate() : fields[1])
                .build();
        return new OutboundEvent(envelope, bytes);
    }

    @Override
    public CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
        return delegate.sendToAllPartitions(event); // heartbeats: not traced
    }

    @Override
    public String transport() {
        return delegate.transport();
    }

    @Override
    public String destination() {
        return delegate.destination();
    }

    @Override
    public int maxEventBytes() {
        return delegate.maxEventBytes();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
