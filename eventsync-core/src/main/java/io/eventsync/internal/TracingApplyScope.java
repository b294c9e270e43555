package io.eventsync.internal;

import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Invocation;
import io.eventsync.dispatch.KeyParkedException;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.util.ArrayList;
import java.util.List;

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
    public boolean batches() {
        return delegate.batches();
    }

    /**
     * A batch keeps one CONSUMER span per traced event, started when its handler starts (current while
     * it runs) and ended once the batch committed or rolled back ({@code eventsync.batch.committed}).
     */
    @Override
    public List<Outcome> applyAll(List<? extends Invocation> invocations) throws Exception {
        Tracer tracer = Otel.tracer();
        if (tracer == null || invocations.stream().allMatch(i -> i.envelope().getTraceparent().isEmpty())) {
            return delegate.applyAll(invocations);
        }
        List<Traced> traced = new ArrayList<>(invocations.size());
        List<Invocation> wrapped = new ArrayList<>(invocations.size());
        for (Invocation invocation : invocations) {
            if (invocation.envelope().getTraceparent().isEmpty()) {
                wrapped.add(invocation);
            } else {
                Traced t = new Traced(invocation, tracer, invocations.size());
                traced.add(t);
                wrapped.add(t);
            }
        }
        boolean committed = false;
        try {
            List<Outcome> outcomes = delegate.applyAll(wrapped);
            committed = true;
            for (int i = 0; i < wrapped.size(); i++) {
                if (wrapped.get(i) instanceof Traced t && t.span != null) {
                    record(t.span, outcomes.get(i));
                }
            }
            return outcomes;
        } finally {
            for (Traced t : traced) {
                if (t.span != null) {
                    t.span.setAttribute(Otel.BATCH_COMMITTED, committed);
                    t.span.end();
                }
            }
        }
    }

    /** An invocation of a batch whose handler runs inside its own CONSUMER span. */
    private static final class Traced implements Invocation {
        private final Invocation delegate;
        private final Tracer tracer;
        private final int batchSize;
        volatile Span span;

        Traced(Invocation delegate, Tracer tracer, int batchSize) {
            this.delegate = delegate;
            this.tracer = tracer;
            this.batchSize = batchSize;
        }

        @Override
        public Outcome proceed() throws Exception {
            Span s = start(tracer, delegate);
            s.setAttribute(Otel.BATCH_SIZE, (long) batchSize);
            span = s;
            try (Scope ignored = s.makeCurrent()) {
                return delegate.proceed();
            } catch (Throwable t) {
                Otel.fail(s, t);
                throw t;
            }
        }

        @Override
        public Envelope envelope() {
            return delegate.envelope();
        }

        @Override
        public String subscription() {
            return delegate.subscription();
        }

        @Override
        public String key() {
            return delegate.key();
        }

        @Override
        public boolean replaying() {
            return delegate.replaying();
        }

        @Override
        public String partition() {
            return delegate.partition();
        }

        @Override
        public long offset() {
            return delegate.offset();
        }

        @Override
        public int attempt() {
            return delegate.attempt();
        }

        @Override
        public <R> void bind(Class<R> type, R resource) {
            delegate.bind(type, resource);
        }

        @Override
        public void onAbort(Runnable hook) {
            delegate.onAbort(hook);
        }

        @Override
        public List<Envelope> emitted() {
            return delegate.emitted();
        }

        @Override
        public boolean abandoned() {
            return delegate.abandoned();
        }
    }

    @Override
    public String toString() {
        return "traced " + delegate;
    }
}
