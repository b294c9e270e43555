package io.eventsync.envelope;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.eventsync.ConfigException;
import io.eventsync.DecodeException;
import io.eventsync.PermanentException;
import io.eventsync.envelope.internal.WireDiagnosis;
import io.eventsync.v1.Envelope;

/**
 * Envelope to bytes and back, with limits. Decoding never throws anything but
 * {@link DecodeException} (naming the field or limit), never hangs and never allocates beyond the
 * size limit. Unknown fields survive decode and re-encode. Thread-safe.
 */
public final class EnvelopeCodec {
    /** Largest envelope accepted by default: 1 MiB. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;
    /** Deepest message nesting accepted by default (unknown groups included). */
    public static final int DEFAULT_MAX_RECURSION_DEPTH = 64;

    private static final EnvelopeCodec DEFAULTS = new EnvelopeCodec(DEFAULT_MAX_BYTES, DEFAULT_MAX_RECURSION_DEPTH);

    private final int maxBytes;
    private final int maxRecursionDepth;

    private EnvelopeCodec(int maxBytes, int maxRecursionDepth) {
        this.maxBytes = maxBytes;
        this.maxRecursionDepth = maxRecursionDepth;
    }

    public static EnvelopeCodec defaults() {
        return DEFAULTS;
    }

    public static Builder custom() {
        return new Builder();
    }

    public int maxBytes() {
        return maxBytes;
    }

    public int maxRecursionDepth() {
        return maxRecursionDepth;
    }

    /** Encodes; throws {@link io.eventsync.PermanentException} naming the size when over {@link #maxBytes()}. */
    public byte[] encode(Envelope envelope) {
        if (envelope == null) {
            throw new PermanentException("cannot encode a null envelope");
        }
        int size = envelope.getSerializedSize();
        if (size > maxBytes) {
            throw new PermanentException("envelope " + envelope.getId() + " (subject " + envelope.getSubject()
                    + ") is " + size + " bytes, over the " + maxBytes
                    + "-byte limit: make the payload smaller or raise maxBytes");
        }
        return envelope.toByteArray();
    }

    /**
     * Decodes; the only exception is {@link DecodeException}, whose message names the malformed field
     * or the limit that was exceeded.
     */
    public Envelope decode(byte[] bytes) throws DecodeException {
        if (bytes == null) {
            throw new DecodeException("cannot decode null bytes as an envelope");
        }
        if (bytes.length > maxBytes) {
            throw new DecodeException("envelope is " + bytes.length + " bytes, over the " + maxBytes + "-byte limit");
        }
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(maxBytes);
            in.setRecursionLimit(maxRecursionDepth);
            return Envelope.parser().parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new DecodeException("cannot decode envelope (" + bytes.length + " bytes): "
                    + problem(bytes, e), e);
        } catch (RuntimeException | StackOverflowError e) {
            // The parser is not supposed to throw these; if it does, the bytes are still the cause.
            throw new DecodeException("cannot decode envelope (" + bytes.length + " bytes): " + e, e);
        }
    }

    private String problem(byte[] bytes, InvalidProtocolBufferException e) {
        String found = WireDiagnosis.firstProblem(ByteString.copyFrom(bytes), Envelope.getDescriptor(), maxRecursionDepth);
        return found != null ? found : WireDiagnosis.describe(e);
    }

    public static final class Builder {
        private int maxBytes = DEFAULT_MAX_BYTES;
        private int maxRecursionDepth = DEFAULT_MAX_RECURSION_DEPTH;

        public Builder() {}

        /** Largest envelope, in bytes, that encode and decode accept; at least 64. */
        public Builder maxBytes(int maxBytes) {
            this.maxBytes = maxBytes;
            return this;
        }

        /** Deepest message nesting decode accepts; between 2 (envelope and its timestamp) and 1000. */
        public Builder maxRecursionDepth(int depth) {
            this.maxRecursionDepth = depth;
            return this;
        }

        public EnvelopeCodec build() {
            if (maxBytes < 64) {
                throw new ConfigException("maxBytes must be at least 64, was " + maxBytes);
            }
            if (maxRecursionDepth < 2 || maxRecursionDepth > 1000) {
                throw new ConfigException("maxRecursionDepth must be between 2 and 1000, was " + maxRecursionDepth);
            }
            return new EnvelopeCodec(maxBytes, maxRecursionDepth);
        }
    }
}
