package io.eventsync.handler.internal;

import io.eventsync.handler.DeadLetter;
import io.eventsync.handler.DeadLetterPolicy;
import io.eventsync.handler.DeadLetterStore;
import io.eventsync.handler.HandlerRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dead letters of one subscription and the keys they park. A key is parked from the moment its event
 * is stored as a FAILED letter (policy {@link DeadLetterPolicy#PARK_KEY}) until a release leaves no
 * letter of it: while parked, the key's later events are stored as HELD letters, in order, instead of
 * running. Only the lane owning a key parks, holds or unparks it, so these steps are ordered per key.
 */
final class Parking {
    private final String subscription;
    private final DeadLetterStore store;
    private final Clock clock;
    /** Parked key -> id of the FAILED letter it waits behind. */
    private final ConcurrentHashMap<String, String> parked = new ConcurrentHashMap<>();

    Parking(String subscription, DeadLetterStore store, Clock clock) {
        this.subscription = subscription;
        this.store = store;
        this.clock = clock;
    }

    /**
     * Restores the parked keys from the store: a key with a HELD letter, or whose FAILED letter's
     * handler parks, is parked. Letters without a key (undecodable) never park.
     */
    void load(HandlerRegistry handlers, DeadLetterPolicy unknownTypePolicy) {
        for (String key : store.keys(subscription)) {
            if (key.isEmpty()) {
                continue;
            }
            List<DeadLetter> letters = store.byKey(subscription, key);
            if (letters.isEmpty()) {
                continue;
            }
            DeadLetter first = letters.get(0);
            boolean held = letters.stream().anyMatch(l -> l.kind() == DeadLetter.Kind.HELD);
            DeadLetterPolicy policy = handlers.find(first.type())
                    .map(r -> r.options().deadLetterPolicy()).orElse(unknownTypePolicy);
            if (held || policy == DeadLetterPolicy.PARK_KEY) {
                parked.put(key, first.id());
            }
        }
    }

    boolean isParked(String key) {
        return parked.containsKey(key);
    }

    Set<String> parkedKeys() {
        return Set.copyOf(parked.keySet());
    }

    Instant now() {
        return clock.instant();
    }

    /** Stores a FAILED letter for a delivered event and parks its key per {@code policy}. */
    DeadLetter fail(Work w, String reason, Throwable error) {
        DeadLetter letter = new DeadLetter(UUID.randomUUID().toString(), subscription, DeadLetter.Kind.FAILED,
                w.eventId(), w.key, w.type(), w.bytes, reason, chain(error), Math.max(1, w.attempts),
                w.firstFailure, w.lastFailure);
        store.add(letter);
        park(w, letter.id());
        return letter;
    }

    /** A re-applied letter failed again: it becomes (or stays) the key's FAILED letter, in its place. */
    DeadLetter failAgain(Work w, String reason, Throwable error) {
        DeadLetter old = w.letter;
        DeadLetter letter = new DeadLetter(old.id(), subscription, DeadLetter.Kind.FAILED, w.eventId().isEmpty()
                ? old.eventId() : w.eventId(), old.key(), w.type().isEmpty() ? old.type() : w.type(), old.bytes(),
                reason, chain(error), old.attempts() + Math.max(1, w.attempts),
                old.kind() == DeadLetter.Kind.FAILED ? old.firstFailure() : w.firstFailure, w.lastFailure);
        if (!store.update(letter)) {
            store.add(letter); // removed meanwhile by an operator: keep the failure on record
        }
        park(w, letter.id());
        return letter;
    }

    private void park(Work w, String letterId) {
        if (!w.key.isEmpty() && w.policy == DeadLetterPolicy.PARK_KEY) {
            parked.put(w.key, letterId);
        }
    }

    /** Stores a later event of a parked key as HELD behind the key's FAILED letter. */
    DeadLetter hold(Work w) {
        String failedId = parked.getOrDefault(w.key, "?");
        Instant now = clock.instant();
        DeadLetter letter = new DeadLetter(UUID.randomUUID().toString(), subscription, DeadLetter.Kind.HELD,
                w.eventId(), w.key, w.type(), w.bytes,
                "held behind dead letter " + failedId + " of key " + w.key + " until it is replayed or discarded",
                List.of(), 0, now, now);
        store.add(letter);
        return letter;
    }

    /**
     * After a release step: the key's next letter to re-apply, or null when none is left to release
     * (then the key is unparked if no letter remains, or stays parked behind a FAILED one).
     */
    DeadLetter nextHeld(String key) {
        if (!parked.containsKey(key)) {
            return null;
        }
        List<DeadLetter> letters = store.byKey(subscription, key);
        if (letters.isEmpty()) {
            parked.remove(key);
            return null;
        }
        DeadLetter first = letters.get(0);
        if (first.kind() == DeadLetter.Kind.FAILED) {
            parked.put(key, first.id());
            return null;
        }
        return first;
    }

    DeadLetterStore store() {
        return store;
    }

    /** Exception descriptions, outermost first (bounded, cycles cut). */
    static List<String> chain(Throwable error) {
        List<String> out = new ArrayList<>();
        for (Throwable t = error; t != null && out.size() < 16; t = t.getCause()) {
            out.add(t.getClass().getName() + ": " + t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        return out;
    }
}
