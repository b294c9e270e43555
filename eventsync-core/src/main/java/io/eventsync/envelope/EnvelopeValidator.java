package io.eventsync.envelope;

import com.google.protobuf.Message;
import io.eventsync.ValidationException;
import io.eventsync.v1.Envelope;

/**
 * Checks envelope rules (required attributes, {@code sequence >= 1}, sane {@code time}, size) and the
 * payload's {@code buf.validate} constraints (protovalidate). A violation lists every failing field
 * path with its rule. Thread-safe.
 */
public final class EnvelopeValidator {
    // IMPLEMENTATION PENDING (core issue): the codec helper fills this in.

    public static EnvelopeValidator defaults() { return new EnvelopeValidator(); }

    /** Throws {@link ValidationException} listing every violation of the envelope and its unpacked payload. */
    public void validate(Envelope envelope, Message payload) throws ValidationException {
        throw new UnsupportedOperationException("pending");
    }
}
