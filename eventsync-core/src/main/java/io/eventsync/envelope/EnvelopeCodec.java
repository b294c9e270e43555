package io.eventsync.envelope;

import io.eventsync.DecodeException;
import io.eventsync.v1.Envelope;

/**
 * Envelope to bytes and back, with limits. Decoding never throws anything but
 * {@link DecodeException} (naming the field or limit), never hangs and never allocates beyond the
 * size limit. Unknown fields survive decode and re-encode. Thread-safe.
 */
public final class EnvelopeCodec {
    // IMPLEMENTATION PENDING (core issue): the codec helper fills this in.
    public static final int DEFAULT_MAX_BYTES = 1 << 20;
    public static final int DEFAULT_MAX_RECURSION_DEPTH = 64;

    public static EnvelopeCodec defaults() { return new EnvelopeCodec(); }

    public static Builder custom() { return new Builder(); }

    public int maxBytes() { return DEFAULT_MAX_BYTES; }

    /** Encodes; throws {@link io.eventsync.PermanentException} naming the size when over {@link #maxBytes()}. */
    public byte[] encode(Envelope envelope) { throw new UnsupportedOperationException("pending"); }

    public Envelope decode(byte[] bytes) throws DecodeException { throw new UnsupportedOperationException("pending"); }

    public static final class Builder {
        public Builder maxBytes(int maxBytes) { return this; }
        public Builder maxRecursionDepth(int depth) { return this; }
        public EnvelopeCodec build() { return new EnvelopeCodec(); }
    }
}
