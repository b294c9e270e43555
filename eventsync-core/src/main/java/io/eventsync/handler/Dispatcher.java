package io.eventsync.handler;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;

/**
 * Runs the handlers of one subscription: decodes and validates each delivery, routes it to its
 * key's lane (per-key order, keys in parallel across lanes), invokes the handler inside the
 * {@link ApplyScope} with timeout, cancellation and abandonment, retries transient failures,
 * dead-letters permanent ones (parking the key), and acknowledges offsets only when they and every
 * earlier offset of their partition are done.
 *
 * <p>Build with {@link #builder(String)}; pass it to {@code Transport.subscribe} as the
 * {@link DeliveryHandler}; close it to stop.
 */
public final class Dispatcher implements DeliveryHandler, AutoCloseable {
    // IMPLEMENTATION PENDING (core issue): the dispatcher helper fills this in.

    private Dispatcher() {}

    public static Builder builder(String subscription) {
        return new Builder(subscription);
    }

    @Override
    public void onDelivery(Delivery delivery) throws InterruptedException {
        throw new UnsupportedOperationException("pending");
    }

    /** Re-runs a dead letter through the normal apply path; on success releases the key's held events in order. */
    public void replay(String deadLetterId) {
        throw new UnsupportedOperationException("pending");
    }

    /** Drops a dead letter and releases the key's held events in order. */
    public void discard(String deadLetterId) {
        throw new UnsupportedOperationException("pending");
    }

    @Override
    public void close() {}

    public static final class Builder {
        private final String subscription;

        private Builder(String subscription) {
            this.subscription = subscription;
        }

        public Builder handlers(HandlerRegistry handlers) { return this; }
        public Builder types(TypeRegistry types) { return this; }
        public Builder codec(EnvelopeCodec codec) { return this; }
        public Builder validator(EnvelopeValidator validator) { return this; }
        public Builder applyScope(ApplyScope scope) { return this; }
        public Builder deadLetters(DeadLetterStore store) { return this; }
        public Builder lanes(int lanes) { return this; }
        public Builder maxInFlight(int maxInFlight) { return this; }
        public Builder unknownTypePolicy(UnknownTypePolicy policy) { return this; }
        public Builder meterRegistry(MeterRegistry registry) { return this; }
        public Builder shutdownTimeout(Duration timeout) { return this; }

        public Dispatcher build() {
            return new Dispatcher();
        }
    }

    /** What happens to an event whose payload type has no handler on this subscription. */
    public enum UnknownTypePolicy { DEAD_LETTER, SKIP }
}
