package io.eventsync.handler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * An event that was not applied, kept so it can be inspected, replayed or discarded.
 *
 * @param id           unique id of this letter
 * @param subscription the consumer group it failed in
 * @param kind         {@link Kind#FAILED} for the event that failed; {@link Kind#HELD} for a later event
 *                     of the same key held behind it while the key is parked
 * @param eventId      the envelope id, or empty when the bytes did not decode
 * @param key          the ordering key (subject / partition key), or empty when unknown
 * @param type         the payload type, or empty when unknown
 * @param bytes        the event exactly as received
 * @param reason       why it failed (for HELD: which letter it waits behind)
 * @param errorChain   exception messages, outermost first
 * @param attempts     how many attempts were made
 * @param firstFailure when the first attempt failed
 * @param lastFailure  when the last attempt failed
 */
public record DeadLetter(
        String id,
        String subscription,
        Kind kind,
        String eventId,
        String key,
        String type,
        byte[] bytes,
        String reason,
        List<String> errorChain,
        int attempts,
        Instant firstFailure,
        Instant lastFailure) {

    public enum Kind { FAILED, HELD }

    public DeadLetter {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(subscription, "subscription");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(reason, "reason");
        errorChain = List.copyOf(errorChain);
        Objects.requireNonNull(firstFailure, "firstFailure");
        Objects.requireNonNull(lastFailure, "lastFailure");
    }
}
