package io.eventsync.envelope;

import build.buf.protovalidate.Config;
import build.buf.protovalidate.ValidationResult;
import build.buf.protovalidate.Validator;
import build.buf.protovalidate.ValidatorFactory;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.PermanentException;
import io.eventsync.ValidationException;
import io.eventsync.Violation;
import io.eventsync.envelope.internal.DescriptorSets;
import io.eventsync.envelope.internal.EnvelopeRules;
import io.eventsync.envelope.internal.FieldPaths;
import io.eventsync.v1.Envelope;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks envelope rules (required attributes, {@code sequence >= 1}, sane {@code time}, size) and the
 * payload's {@code buf.validate} constraints (protovalidate). A violation lists every failing field
 * path with its rule. Thread-safe; protovalidate compiles each payload type's rules once and reuses them.
 */
public final class EnvelopeValidator {
    /** How far in the future an event's time may be, by default: clocks of producers drift. */
    public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofHours(1);

    private static final EnvelopeValidator DEFAULTS = custom().build();

    private final EnvelopeRules envelopeRules;
    private final Validator payloadRules;

    private EnvelopeValidator(Builder b) {
        this.envelopeRules = new EnvelopeRules(b.clock, b.maxClockSkew, b.maxBytes);
        this.payloadRules = ValidatorFactory.newBuilder()
                .withConfig(Config.newBuilder().setExtensionRegistry(DescriptorSets.extensions()).build())
                .build();
    }

    public static EnvelopeValidator defaults() {
        return DEFAULTS;
    }

    public static Builder custom() {
        return new Builder();
    }

    /**
     * Throws {@link ValidationException} listing every violation of the envelope and its unpacked
     * payload ({@code payload} may be null when only the envelope is to be checked). Payload fields
     * are reported under {@code payload.}, e.g. {@code payload.amount_cents}.
     */
    public void validate(Envelope envelope, Message payload) throws ValidationException {
        List<Violation> violations = new ArrayList<>();
        envelopeRules.check(envelope, violations);
        if (payload != null) {
            checkPayload(envelope, payload, violations);
        }
        if (!violations.isEmpty()) {
            throw new ValidationException(violations);
        }
    }

    private void checkPayload(Envelope envelope, Message payload, List<Violation> violations) {
        ValidationResult result;
        try {
            result = payloadRules.validate(payload);
        } catch (build.buf.protovalidate.exceptions.ValidationException e) {
            // The type's rules do not compile or cannot be evaluated: no retry will change that.
            throw new PermanentException("cannot check the buf.validate rules of payload type '"
                    + payload.getDescriptorForType().getFullName() + "' of event " + envelope.getId()
                    + ": " + e.getMessage(), e);
        }
        for (build.buf.protovalidate.Violation v : result.getViolations()) {
            build.buf.validate.Violation proto = v.toProto();
            violations.add(new Violation(FieldPaths.payloadField(proto.getField()), proto.getRuleId(), proto.getMessage()));
        }
    }

    public static final class Builder {
        private Clock clock = Clock.systemUTC();
        private Duration maxClockSkew = DEFAULT_MAX_CLOCK_SKEW;
        private int maxBytes = EnvelopeCodec.DEFAULT_MAX_BYTES;

        public Builder() {}

        /** How far past now an event's time may be; zero or more (default one hour). */
        public Builder maxClockSkew(Duration maxClockSkew) {
            this.maxClockSkew = maxClockSkew;
            return this;
        }

        /** Largest envelope accepted, in serialized bytes (default {@link EnvelopeCodec#DEFAULT_MAX_BYTES}). */
        public Builder maxBytes(int maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        /** The clock "now" is read from (default system UTC); tests pass a fixed one. */
        public Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        public EnvelopeValidator build() {
            if (maxClockSkew == null || maxClockSkew.isNegative()) {
                throw new ConfigException("maxClockSkew must be zero or more, was " + maxClockSkew);
            }
            if (maxBytes < 1) {
                throw new ConfigException("maxBytes must be at least 1, was " + maxBytes);
            }
            if (clock == null) {
                throw new ConfigException("clock must not be null, was null");
            }
            return new EnvelopeValidator(this);
        }
    }
}
