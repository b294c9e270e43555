package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.handler.DeadLetterPolicy;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Dead letters of one subscription and the keys they park. A key is parked while the store holds a
 * letter of it that {@linkplain DeadLetter#parksKey() parks} it: from the moment its event is stored as
 * a FAILED letter (policy {@link DeadLetterPolicy#PARK_KEY}) until a release leaves no such letter.
 * While parked, the key's later events are stored as HELD letters, in order, instead of running.
 *
 * <p>The store is the truth, shared by every instance of the subscription; {@link #parkedHint} is only
 * this process's memory of keys it saw parked, used to go straight to a hold (which re-checks the store
 * atomically) when the apply scope does not check parked keys itself (a scope that does also knows
 * whether a redelivered event was applied already). A key not in the hint is checked in the store before its event runs, by the apply scope
 * inside its transaction when it {@linkplain io.eventsync.dispatch.ApplyScope#refusesParkedKeys can},
 * else here. Only the lane owning a key in this process parks, holds or releases it.
 */
final class Parking {
    private final String subscription;
    private final DeadLetterStore store;
    private final Clock clock;
    /** Keys this process saw parked -> id of the letter they wait behind (a hint, see the class doc). */
    private final ConcurrentHashMap<String, String> hint = new ConcurrentHashMap<>();

    Parking(String subscription, DeadLetterStore store, Clock clock) {
        this.subscription = subscription;
        this.store = store;
        this.clock = clock;
    }

    boolean parkedHint(String key) {
        return hint.containsKey(key);
    }

    /** Keys parked now, as the store says. */
    Set<String> parkedKeys() {
        return store.parkedKeys(subscription);
    }

    /** Keys whose HELD letters wait behind nothing (see {@link DeadLetterStore#orphanedKeys}). */
    Set<String> orphanedKeys() {
        return store.orphanedKeys(subscription);
    }

    Instant now() {
        return clock.instant();
    }

    /** Stores a FAILED letter for a delivered event (once per event) and parks its key per its policy. */
    DeadLetter fail(Work w, String reason, Throwable error) {
        DeadLetter letter = new DeadLetter(UUID.randomUUID().toString(), subscription, DeadLetter.Kind.FAILED,
                w.eventId(), w.key, w.type(), w.bytes, reason, chain(error), Math.max(1, w.attempts),
                w.firstFailure, w.lastFailure, w.origin, parks(w));
        DeadLetter stored = store.add(letter);
        remember(stored);
        return stored;
    }

    /** A re-applied letter failed again: it becomes (or stays) the key's FAILED letter, in its place. */
    DeadLetter failAgain(Work w, String reason, Throwable error) {
        DeadLetter old = w.letter;
        DeadLetter letter = new DeadLetter(old.id(), subscription, DeadLetter.Kind.FAILED, w.eventId().isEmpty()
                ? old.eventId() : w.eventId(), old.key(), w.type().isEmpty() ? old.type() : w.type(), old.bytes(),
                reason, chain(error), old.attempts() + Math.max(1, w.attempts),
                old.kind() == DeadLetter.Kind.FAILED ? old.firstFailure() : w.firstFailure, w.lastFailure,
                old.origin(), parks(w));
        DeadLetter stored = letter;
        if (!store.update(letter)) {
            stored = store.add(letter); // removed meanwhile by an operator: keep the failure on record
        }
        remember(stored);
        return stored;
    }

    private static boolean parks(Work w) {
        return !w.key.isEmpty() && w.policy == DeadLetterPolicy.PARK_KEY;
    }

    private void remember(DeadLetter stored) {
        if (stored.parksKey() && !stored.key().isEmpty()) {
            hint.putIfAbsent(stored.key(), stored.id());
        }
    }

    /**
     * Stores a later event of a parked key as HELD behind the key's letters, if the key is still parked
     * in the store. Empty when it is not (released by another process): the event is applied instead.
     */
    Optional<DeadLetter> hold(Work w) {
        String behind = hint.get(w.key);
        if (behind == null) {
            behind = store.byKey(subscription, w.key).stream().filter(DeadLetter::parksKey).findFirst()
                    .map(DeadLetter::id).orElse(null);
            if (behind == null) {
                return Optional.empty();
            }
        }
        Instant now = clock.instant();
        DeadLetter letter = new DeadLetter(UUID.randomUUID().toString(), subscription, DeadLetter.Kind.HELD,
                w.eventId(), w.key, w.type(), w.bytes,
                "held behind dead letter " + behind + " of key " + w.key + " until it is replayed or discarded",
                List.of(), 0, now, now, w.origin, true);
        Optional<DeadLetter> stored = store.holdIfParked(letter);
        if (stored.isPresent()) {
            hint.putIfAbsent(w.key, behind);
        } else {
            hint.remove(w.key);
        }
        return stored;
    }

    /** Forgets that {@code key} was parked: the store said it is not. */
    void unparked(String key) {
        hint.remove(key);
    }

    /**
     * After a release step: the key's next letter to re-apply, or null when none is left to release
     * (then the key is unparked if no parking letter remains, or stays parked behind a FAILED one).
     */
    DeadLetter nextHeld(String key) {
        // A FAILED letter kept under the SKIP policy never held anything back, so it does not block
        // the release of the HELD letters behind a parking one.
        for (DeadLetter letter : store.byKey(subscription, key)) {
            if (letter.kind() == DeadLetter.Kind.HELD) {
                return letter;
            }
            if (letter.parksKey()) {
                hint.put(key, letter.id());
                return null;
            }
        }
        hint.remove(key);
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
