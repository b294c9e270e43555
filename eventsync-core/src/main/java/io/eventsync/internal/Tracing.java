package io.eventsync.internal;

import io.eventsync.dispatch.ApplyScope;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;

/**
 * Trace propagation with OpenTelemetry, when the application has it: the writer's trace context goes
 * into the envelope, the relay's send is a PRODUCER span, a copy's apply is a CONSUMER span.
 *
 * <p>The OpenTelemetry API is an optional dependency. This class checks once whether it is on the class
 * path, and every use of its types sits in {@link Otel}, {@link TracingPublisher} and
 * {@link TracingApplyScope}, classes the JVM loads only after that check passed (no signature here names
 * an OpenTelemetry type). Without the API, each method hands back what it was given. With the API and
 * no SDK (or agent) installed, {@code GlobalOpenTelemetry} is the no-op and nothing is recorded.
 */
public final class Tracing {
    /**
     * The API and a version with {@code GlobalOpenTelemetry.getOrNoop()} (1.57+): an older one (Spring Boot
     * 4.0 manages 1.55) would fail every traced send and apply with NoSuchMethodError, so it counts as absent.
     */
    private static final boolean PRESENT = present("io.opentelemetry.api.GlobalOpenTelemetry")
            && present("io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator")
            && hasMethod("io.opentelemetry.api.GlobalOpenTelemetry", "getOrNoop");

    private Tracing() {}

    /** Whether the OpenTelemetry API is on the class path. */
    public static boolean available() {
        return PRESENT;
    }

    /**
     * The writer's side: {@code bytes} (the encoded {@code envelope}) with the W3C context of the span
     * current on this thread appended as {@code traceparent} and {@code tracestate}, when a span is current
     * and the envelope has no traceparent yet. Otherwise, or when the result would be over
     * {@code maxBytes} (tracing must never be why an event is refused), {@code bytes} themselves.
     */
    public static byte[] stamp(Envelope envelope, byte[] bytes, int maxBytes) {
        return PRESENT && envelope.getTraceparent().isEmpty() ? Otel.stampCurrent(bytes, maxBytes) : bytes;
    }

    /** The relay's side: {@code publisher} with each traced event's send as a PRODUCER span. */
    public static Publisher producer(Publisher publisher) {
        return PRESENT ? new TracingPublisher(publisher) : publisher;
    }

    /** The copy's side: {@code scope} with each traced event's apply as a CONSUMER span, current meanwhile. */
    public static ApplyScope consumer(ApplyScope scope) {
        return PRESENT ? new TracingApplyScope(scope) : scope;
    }

    private static boolean hasMethod(String className, String method) {
        try {
            Class.forName(className, false, Tracing.class.getClassLoader()).getMethod(method);
            return true;
        } catch (ReflectiveOperationException | LinkageError e) {
            org.slf4j.LoggerFactory.getLogger(Tracing.class).info("OpenTelemetry API on the class path has no {}.{}()"
                    + " (it came in 1.57); eventsync does not trace with it", className, method);
            return false;
        }
    }

    private static boolean present(String className) {
        try {
            Class.forName(className, false, Tracing.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
