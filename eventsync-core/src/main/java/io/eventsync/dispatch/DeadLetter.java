package io.eventsync.dispatch;

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
 * @param origin       where the event came from, as the transport describes it (topic, partition, offset,
 *                     and for a malformed record its headers/attributes); empty when not known
 * @param parksKey     true when this letter holds back the later events of its key: every HELD letter,
 *                     and a FAILED one whose handler's policy is {@code PARK_KEY}
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
        Instant lastFailure,
        String origin,
        boolean parksKey) {

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
        Objects.requireNonNull(origin, "origin");
    }

    /** A letter without a known origin; it parks its key (a HELD letter, or FAILED under {@code PARK_KEY}). */
    public DeadLetter(String id, String subscription, Kind kind, String eventId, String key, String type, byte[] bytes,
                      String reason, List<String> errorChain, int attempts, Instant firstFailure, Instant lastFailure) {
        this(id, subscription, kind, eventId, key, type, bytes, reason, errorChain, attempts, firstFailure,
                lastFailure, "", true);
    }
}
