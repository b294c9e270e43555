package io.eventsync.envelope;

import com.google.protobuf.Message;
import io.eventsync.v1.Envelope;

/** Creates envelopes: a UUIDv7 id, the current time, specversion 1.0, the payload's type name. */
public final class Events {
    // IMPLEMENTATION PENDING (core issue): the codec helper fills this in.
    private Events() {}

    /** A new event of {@code source} about {@code subject} at version {@code sequence}. */
    public static Envelope create(String source, String subject, long sequence, Message payload) {
        throw new UnsupportedOperationException("pending");
    }

    /** A tombstone: the subject was deleted at the source at version {@code sequence}. */
    public static Envelope tombstone(String source, String subject, long sequence, Message lastPayload) {
        throw new UnsupportedOperationException("pending");
    }

    /** A UUIDv7 string (RFC 9562): 48-bit Unix millis, then random bits; monotonic within a JVM. */
    public static String newId() {
        throw new UnsupportedOperationException("pending");
    }
}
