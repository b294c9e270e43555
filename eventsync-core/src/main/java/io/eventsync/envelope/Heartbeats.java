package io.eventsync.envelope;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Heartbeats as they travel: an ordinary {@link Envelope} whose type is {@code eventsync.v1.Heartbeat},
 * so every transport carries one unchanged. A relay sends one into its topic at an interval, after the
 * events it had read were confirmed; a consumer applies it in order with the events of its partition
 * and records its source time, which bounds how stale the copy can be (freshness).
 *
 * <p>The one place that decides what a heartbeat looks like: {@link #create}, {@link #isHeartbeat},
 * {@link #read}. Its subject and partition key are {@code eventsync.heartbeat:<source>}: a transport
 * routes it like any key, and a relay that must reach every partition sends it to each explicitly.
 * Its sequence is the source time in milliseconds; no copy ever applies it as a change.
 */
public final class Heartbeats {
    /** The envelope type of every heartbeat. */
    public static final String TYPE = Heartbeat.getDescriptor().getFullName();
    private static final String KEY_PREFIX = "eventsync.heartbeat:";

    private Heartbeats() {}

    /**
     * A heartbeat of {@code source}: every event of the source committed before {@code sourceTime} (the
     * source database's clock) was published before it; {@code position} is the last one published.
     */
    public static Envelope create(String source, Instant sourceTime, long position) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sourceTime, "sourceTime");
        Timestamp time = Timestamp.newBuilder().setSeconds(sourceTime.getEpochSecond())
                .setNanos(sourceTime.getNano()).build();
        Heartbeat heartbeat = Heartbeat.newBuilder().setSource(source).setTime(time).setPosition(position).build();
        String key = KEY_PREFIX + source;
        return Envelope.newBuilder()
                .setId(Events.newId())
                .setSource(source)
                .setType(TYPE)
                .setSubject(key)
                .setPartitionKey(key)
                .setTime(time)
                .setSpecversion(Events.SPEC_VERSION)
                .setSequence(Math.max(1, sourceTime.toEpochMilli()))
                .setPayload(Any.pack(heartbeat))
                .build();
    }

    /** True when the envelope is a heartbeat (by its type alone: no handler may claim this type). */
    public static boolean isHeartbeat(Envelope envelope) {
        return TYPE.equals(envelope.getType());
    }

    /**
     * The heartbeat an envelope carries; empty when it is not a heartbeat, or its payload does not
     * unpack to one with a source and a time (a consumer then ignores it: a heartbeat is never
     * dead-lettered).
     */
    public static Optional<Heartbeat> read(Envelope envelope) {
        if (!isHeartbeat(envelope) || !envelope.getPayload().is(Heartbeat.class)) {
            return Optional.empty();
        }
        try {
            Heartbeat heartbeat = envelope.getPayload().unpack(Heartbeat.class);
            if (heartbeat.getSource().isEmpty() || !heartbeat.hasTime()) {
                return Optional.empty();
            }
            return Optional.of(heartbeat);
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }

    /** A heartbeat's source time. */
    public static Instant sourceTime(Heartbeat heartbeat) {
        return Instant.ofEpochSecond(heartbeat.getTime().getSeconds(), heartbeat.getTime().getNanos());
    }
}
