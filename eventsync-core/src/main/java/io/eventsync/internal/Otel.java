package io.eventsync.internal;

import com.google.protobuf.CodedOutputStream;
import io.eventsync.v1.Envelope;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * Every use of OpenTelemetry's own types that the tracing decorators share: the tracer, the W3C
 * propagator between a context and an envelope's {@code traceparent}/{@code tracestate}, and the
 * messaging attribute keys. Loaded only once {@link Tracing} found the API on the class path.
 */
final class Otel {
    static final String INSTRUMENTATION_SCOPE = "io.eventsync";

    // Messaging semantic conventions (the keys are written here instead of taken from the incubating
    // semconv artifact, which is not stable enough for a library to depend on).
    static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
    static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    static final AttributeKey<String> PARTITION = AttributeKey.stringKey("messaging.destination.partition.id");
    static final AttributeKey<String> OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
    static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
    static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
    static final AttributeKey<Long> BODY_SIZE = AttributeKey.longKey("messaging.message.body.size");
    static final AttributeKey<String> CONSUMER_GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
    // eventsync's own, for what the conventions have no generic key.
    static final AttributeKey<String> SUBJECT = AttributeKey.stringKey("eventsync.subject");
    static final AttributeKey<Long> OFFSET = AttributeKey.longKey("eventsync.offset");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("eventsync.attempt");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("eventsync.outcome");
    static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey("eventsync.batch.size");
    static final AttributeKey<Boolean> BATCH_COMMITTED = AttributeKey.booleanKey("eventsync.batch.committed");

    private static final String TRACEPARENT = "traceparent";
    private static final String TRACESTATE = "tracestate";
    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();

    private static final TextMapGetter<Envelope> FROM_ENVELOPE = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Envelope envelope) {
            return List.of(TRACEPARENT, TRACESTATE);
        }

        @Override
        public String get(Envelope envelope, String key) {
            if (envelope == null) {
                return null;
            }
            String value = TRACEPARENT.equals(key) ? envelope.getTraceparent()
                    : TRACESTATE.equals(key) ? envelope.getTracestate() : "";
            return value.isEmpty() ? null : value;
        }
    };

    private static final TextMapSetter<String[]> INTO_FIELDS = (fields, key, value) -> {
        if (fields != null && TRACEPARENT.equals(key)) {
            fields[0] = value;
        } else if (fields != null && TRACESTATE.equals(key)) {
            fields[1] = value;
        }
    };

    /** The tracer last handed out, with the OpenTelemetry it came from. */
    private record Cached(OpenTelemetry openTelemetry, Tracer tracer) {}

    private static volatile Cached cached;

    private Otel() {}

    /**
     * The tracer of the global OpenTelemetry, or null while none is installed: then there is nothing to
     * record, and the callers skip even the no-op spans. {@code getOrNoop}, not {@code get}: {@code get}
     * would install the no-op for good, and the application's SDK could then no longer register itself.
     * Asked on every use, so an SDK installed after eventsync started (or reinstalled by a test) is seen.
     */
    static Tracer tracer() {
        OpenTelemetry global = GlobalOpenTelemetry.getOrNoop();
        if (global == OpenTelemetry.noop()) {
            return null;
        }
        Cached c = cached;
        if (c == null || c.openTelemetry() != global) {
            c = new Cached(global, global.getTracer(INSTRUMENTATION_SCOPE));
            cached = c;
        }
        return c.tracer();
    }

    /** The context an envelope's traceparent and tracestate describe (the root context when they are absent or invalid). */
    static Context parentOf(Envelope envelope) {
        return W3C.extract(Context.root(), envelope, FROM_ENVELOPE);
    }

    /** {@code [traceparent, tracestate]} of {@code context}'s span, the latter possibly null; null when it has no valid span. */
    static String[] fieldsOf(Context context) {
        SpanContext span = Span.fromContext(context).getSpanContext();
        if (!span.isValid()) {
            return null;
        }
        String[] fields = new String[2];
        W3C.inject(context, fields, INTO_FIELDS);
        return fields[0] == null ? null : fields;
    }

    /** See {@link Tracing#stamp}; the caller checked that the envelope has no traceparent. */
    static byte[] stampCurrent(byte[] bytes, int maxBytes) {
        String[] fields = fieldsOf(Context.current());
        return fields == null ? bytes : append(bytes, fields, maxBytes);
    }

    /**
     * {@code bytes} with {@code traceparent} (field 9) and, when there is one, {@code tracestate} (field
     * 14) appended, or {@code bytes} themselves when that would be over {@code maxBytes}. Protobuf merges
     * concatenated messages and the last value of a scalar wins, so this sets (or replaces) the fields
     * while the rest of the encoded event, unknown fields included, travels unchanged: the way the relay
     * stamps the position. (A span's tracestate is its parent's, so a replaced context never leaves a
     * stale one behind.)
     */
    static byte[] append(byte[] bytes, String[] fields, int maxBytes) {
        String tracestate = fields[1] == null ? "" : fields[1];
        int extra = CodedOutputStream.computeStringSize(Envelope.TRACEPARENT_FIELD_NUMBER, fields[0])
                + (tracestate.isEmpty() ? 0 : CodedOutputStream.computeStringSize(Envelope.TRACESTATE_FIELD_NUMBER,
                        tracestate));
        if ((long) bytes.length + extra > maxBytes) {
            return bytes;
        }
        byte[] out = Arrays.copyOf(bytes, bytes.length + extra);
        CodedOutputStream tail = CodedOutputStream.newInstance(out, bytes.length, extra);
        try {
            tail.writeString(Envelope.TRACEPARENT_FIELD_NUMBER, fields[0]);
            if (!tracestate.isEmpty()) {
                tail.writeString(Envelope.TRACESTATE_FIELD_NUMBER, tracestate);
            }
            tail.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing the trace context into an array of the computed size", e);
        }
        tail.checkNoSpaceLeft();
        return out;
    }

    /** Marks {@code span} failed by {@code failure} (the cause of a future's CompletionException). */
    static void fail(Span span, Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        span.recordException(cause);
        span.setStatus(StatusCode.ERROR, cause.getMessage() != null ? cause.getMessage() : cause.getClass().getName());
    }
}
