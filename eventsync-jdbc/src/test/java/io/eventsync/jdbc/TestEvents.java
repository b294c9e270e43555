package io.eventsync.jdbc;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** Envelopes and a recording publisher for JDBC tests. */
public final class TestEvents {
    private TestEvents() {}

    public static Envelope event(String source, String subject, long sequence) {
        Instant now = Instant.now();
        return Envelope.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setSource(source)
                .setType("google.protobuf.StringValue")
                .setSubject(subject)
                .setSequence(sequence)
                .setSpecversion("1.0")
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setPayload(Any.pack(StringValue.of(subject + "#" + sequence)))
                .build();
    }

    /**
     * A publisher that keeps what it confirmed, in order; events matching {@code reject} fail. Not a
     * mock of a database or broker: it is the far side of the relay under test.
     */
    public static final class RecordingPublisher implements Publisher {
        public final List<Envelope> confirmed = new CopyOnWriteArrayList<>();
        public final List<byte[]> bytes = new CopyOnWriteArrayList<>();
        /** Heartbeats (sent to all partitions), apart from the events; with the count of events confirmed before each. */
        public final List<Envelope> heartbeats = new CopyOnWriteArrayList<>();
        public final List<Integer> confirmedBeforeHeartbeat = new CopyOnWriteArrayList<>();
        private volatile boolean failHeartbeats;
        private volatile Predicate<Envelope> reject = e -> false;
        private volatile Predicate<Envelope> refuse = e -> false;
        private volatile String refusal = "";
        private volatile int maxEventBytes = 1 << 20;

        /** Events matching {@code reject} fail with a transient error. */
        public RecordingPublisher rejecting(Predicate<Envelope> reject) {
            this.reject = reject;
            return this;
        }

        /** Events matching {@code refuse} fail for good: a {@link PermanentException} with {@code message}. */
        public RecordingPublisher refusing(Predicate<Envelope> refuse, String message) {
            this.refusal = message;
            this.refuse = refuse;
            return this;
        }

        /** The limit this publisher announces (it does not check it itself: the relay must). */
        public RecordingPublisher maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        @Override
        public synchronized CompletableFuture<Void> send(OutboundEvent event) {
            if (refuse.test(event.envelope())) {
                return CompletableFuture.failedFuture(new PermanentException(refusal));
            }
            if (reject.test(event.envelope())) {
                return CompletableFuture.failedFuture(new IllegalStateException("rejected " + event.envelope().getSubject()));
            }
            confirmed.add(event.envelope());
            bytes.add(event.bytes());
            return CompletableFuture.completedFuture(null);
        }

        /** Heartbeat sends fail (transiently) while {@code fail}. */
        public RecordingPublisher failingHeartbeats(boolean fail) {
            this.failHeartbeats = fail;
            return this;
        }

        @Override
        public synchronized CompletableFuture<Void> sendToAllPartitions(OutboundEvent event) {
            if (failHeartbeats) {
                return CompletableFuture.failedFuture(new IllegalStateException("heartbeats fail"));
            }
            heartbeats.add(event.envelope());
            confirmedBeforeHeartbeat.add(confirmed.size());
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public int maxEventBytes() {
            return maxEventBytes;
        }

        @Override
        public void close() {}
    }
}
