package io.eventsync.dispatch.internal;

import com.google.protobuf.Message;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.handler.DeadLetterPolicy;
import io.eventsync.handler.HandlerRegistry.Registration;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import java.time.Instant;

/**
 * One event on its way through a lane: what was received, what decoding made of it, and the state of
 * its attempts. Confined to the lane that owns its key (or to the transport thread before enqueueing).
 */
final class Work extends Entry {
    final byte[] bytes;
    final String partition;
    final long offset;
    /** The acknowledgement ticket of a delivery; null when re-applying a dead letter. */
    final AckTracker.Ticket ticket;
    /** The dead letter being re-applied by a release; null for a delivery. */
    final DeadLetter letter;

    /** Where the event came from ({@code Delivery.origin()}), kept on its dead letter; empty for a replay. */
    String origin = "";
    Envelope envelope; // null when the bytes did not decode
    Registration registration; // null when no handler is registered for the type
    Message payload;
    DeadLetterPolicy policy;
    /** What happens at the key's next turn; see {@link Next}. */
    Next next = Next.ATTEMPT;
    /** True for a relay's heartbeat: no handler, no inbox row; recorded when acknowledged. */
    boolean isHeartbeat;
    /** The heartbeat it carries; null when its payload is not a usable one (then it is only acknowledged). */
    Heartbeat heartbeat;

    int attempts;
    Instant firstFailure;
    Instant lastFailure;
    Throwable lastError;
    /** Consecutive failures to write to the dead-letter store (retried, never dropped). */
    int storeFailures;
    /** Counted in the engine's store-blocked gauge until the store write succeeds. */
    boolean blockedOnStore;

    Work(String key, byte[] bytes, String partition, long offset, AckTracker.Ticket ticket, DeadLetter letter) {
        super(key);
        this.bytes = bytes;
        this.partition = partition;
        this.offset = offset;
        this.ticket = ticket;
        this.letter = letter;
    }

    String eventId() {
        return envelope == null ? "" : envelope.getId();
    }

    String type() {
        return envelope == null ? "" : envelope.getType();
    }

    void recordFailure(Instant now, Throwable error) {
        if (firstFailure == null) {
            firstFailure = now;
        }
        lastFailure = now;
        lastError = error;
    }
}
