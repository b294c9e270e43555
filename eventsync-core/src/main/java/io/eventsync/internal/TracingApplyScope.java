package io.eventsync.internal;

import io.eventsync.handler.ApplyScope;
import io.eventsync.handler.DeadLetterStore;
import io.eventsync.handler.Invocation;
import io.eventsync.handler.KeyParkedException;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;

/**
 * An apply scope that makes each attempt to apply a traced event (one with a {@code traceparent}) a
 * CONSUMER span, child of the context in the envelope (the relay's PRODUCER span), and current while
 * the wrapped scope runs: its unit of work (the copy's transaction) and the handler in it, so spans the
 * handler starts are children of this one. A retry is a span of its own ({@code eventsync.attempt}).
 *
 * <p>It wraps the scope the dispatcher was given, outermost. Untraced events, and every event while no
 * OpenTelemetry SDK is installed, go straight to that scope.
 */
final class TracingApplyScope implements ApplyScope {
    private final ApplyScope delegate;

    TracingApplyScope(ApplyScope delegate) {
        this.delegate = delegate;
    }

    @Override
    public Outcome apply(Invocation invocation) throws Exception {
        Envelope envelope = invocation.envelope();
        Tracer tracer = envelope.getTraceparent().isEmpty() ? null : Otel.tracer();
        if (tracer == null) {
            return delegate.apply(invocation);
        }
        Span span = start(tracer, invocation);
        try (Scope ignored = span.makeCurrent()) {
            Outcome outcome = delegate.apply(invocation);
            record(span, outcome);
            return outcome;
        } catch (KeyParkedException e) {
            span.setAttribute(Otel.OUTCOME, "parked"); // refused before the handler ran: waits, not a failure
            throw e;
        } catch (Throwable t) {
            Otel.fail(span, t);
            throw t;
        } finally {
            span.end();
        }
    }

    private static Span start(Tracer tracer, Invocation invocation) {
        Envelope envelope = invocation.envelope();
        // The dispatcher knows its subscription (the consumer group), not the topic it is fed from.
        return tracer.spanBuilder("process " + invocation.subscription())
                .setSpanKind(SpanKind.CONSUMER)
                .setParent(Otel.parentOf(envelope))
                .setAttribute(Otel.OPERATION_TYPE, "process")
                .setAttribute(Otel.OPERATION_NAME, "process")
                .setAttribute(Otel.CONSUMER_GROUP, invocation.subscription())
                .setAttribute(Otel.MESSAGE_ID, envelope.getId())
                .setAttribute(Otel.PARTITION, invocation.partition())
                .setAttribute(Otel.OFFSET, invocation.offset())
                .setAttribute(Otel.SUBJECT, envelope.getSubject())
                .setAttribute(Otel.ATTEMPT, (long) invocation.attempt())
                .startSpan();
    }

    private static void record(Span span, Outcome outcome) {
        if (outcome instanceof Outcome.Applied) {
            span.setAttribute(Otel.OUTCOME, "applied");
        } else if (outcome instanceof Outcome.Skipped) {
            span.setAttribute(Otel.OUTCOME, "skipped");
        } else if (outcome instanceof Outcome.RetryAfter) {
            span.setAttribute(Otel.OUTCOME, "retry_after");
        } else if (outcome instanceof Outcome.Reject reject) {
            span.setAttribute(Otel.OUTCOME, "reject");
            span.setStatus(StatusCode.ERROR, reject.reason());
        }
    }

    @Override
    public boolean refusesParkedKeys(DeadLetterStore deadLetters) {
        return delegate.refusesParkedKeys(deadLetters);
    }

    @Override
    public String toString() {
        return "traced " + delegate;
    }
}
