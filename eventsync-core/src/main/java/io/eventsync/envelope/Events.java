package io.eventsync.envelope;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.eventsync.envelope.internal.UuidV7;
import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.Objects;

/** Creates envelopes: a UUIDv7 id, the current time, specversion 1.0, the payload's type name. */
public final class Events {
    /** The CloudEvents version every envelope carries. */
    public static final String SPEC_VERSION = "1.0";

    private Events() {}

    /**
     * A new event of {@code source} about {@code subject} at version {@code sequence}. The partition
     * key is left empty, which means the subject.
     */
    public static Envelope create(String source, String subject, long sequence, Message payload) {
        return builder(source, subject, sequence, payload).build();
    }

    /** A tombstone: the subject was deleted at the source at version {@code sequence}. */
    public static Envelope tombstone(String source, String subject, long sequence, Message lastPayload) {
        return builder(source, subject, sequence, lastPayload).setTombstone(true).build();
    }

    /** A UUIDv7 string (RFC 9562): 48-bit Unix millis, then random bits; monotonic within a JVM. */
    public static String newId() {
        return UuidV7.next().toString();
    }

    private static Envelope.Builder builder(String source, String subject, long sequence, Message payload) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(payload, "payload");
        Instant now = Instant.now();
        return Envelope.newBuilder()
                .setId(newId())
                .setSource(source)
                .setType(payload.getDescriptorForType().getFullName())
                .setSubject(subject)
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setSpecversion(SPEC_VERSION)
                .setSequence(sequence)
                .setPayload(Any.pack(payload));
    }
}
