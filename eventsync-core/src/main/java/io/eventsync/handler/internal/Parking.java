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
    /** Set once by {@link #load}, before any event is dispatched. */
    private volatile HandlerRegistry handlers;
    private volatile DeadLetterPolicy unknownTypePolicy = DeadLetterPolicy.PARK_KEY;

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
        this.handlers = handlers;
        this.unknownTypePolicy = unknownTypePolicy;
        for (String key : store.keys(subscription)) {
            if (key.isEmpty()) {
                continue;
            }
            store.byKey(subscription, key).stream()
                    .filter(l -> l.kind() == DeadLetter.Kind.HELD || parksItsKey(l))
                    .findFirst()
                    .ifPresent(first -> parked.put(key, first.id()));
        }
    }

    /** True for a FAILED letter whose handler's policy parks the key (not {@link DeadLetterPolicy#SKIP}). */
    private boolean parksItsKey(DeadLetter letter) {
        DeadLetterPolicy policy = handlers == null ? DeadLetterPolicy.PARK_KEY
                : handlers.find(letter.type()).map(r -> r.options().deadLetterPolicy()).orElse(unknownTypePolicy);
        return policy == DeadLetterPolicy.PARK_KEY;
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
        // A FAILED letter kept under the SKIP policy never held anything back, so it does not block
        // the release of the HELD letters behind a parking one.
        for (DeadLetter letter : store.byKey(subscription, key)) {
            if (letter.kind() == DeadLetter.Kind.HELD) {
                return letter;
            }
            if (parksItsKey(letter)) {
                parked.put(key, letter.id());
                return null;
            }
        }
        parked.remove(key);
        return null;
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
