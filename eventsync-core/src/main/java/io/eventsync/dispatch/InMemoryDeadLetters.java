package io.eventsync.dispatch;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link DeadLetterStore} in memory: for tests, the in-process bus and the demo. Nothing survives
 * the JVM; use the JDBC module's table-backed store where letters must outlive a restart.
 *
 * <p>One lock guards everything: dead letters are rare and this keeps {@link #update} (which must keep
 * a letter's place in its key's order) trivially correct.
 */
public final class InMemoryDeadLetters implements DeadLetterStore {

    /** Insertion order is the order letters were added, which is the order of each key's letters. */
    private final Map<String, DeadLetter> byId = new LinkedHashMap<>();

    @Override
    public synchronized DeadLetter add(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        if (byId.containsKey(letter.id())) {
            throw new IllegalArgumentException("a dead letter with id " + letter.id() + " is already stored");
        }
        DeadLetter existing = sameEvent(letter);
        if (existing == null) {
            byId.put(letter.id(), letter);
            return letter;
        }
        if (letter.kind() == DeadLetter.Kind.HELD) {
            return existing;
        }
        DeadLetter merged = new DeadLetter(existing.id(), existing.subscription(), DeadLetter.Kind.FAILED,
                existing.eventId(), existing.key(), existing.type(), existing.bytes(), letter.reason(),
                letter.errorChain(), existing.attempts() + letter.attempts(), existing.firstFailure(),
                letter.lastFailure(), existing.origin().isEmpty() ? letter.origin() : existing.origin(),
                letter.parksKey());
        byId.put(existing.id(), merged); // keeps its insertion position
        return merged;
    }

    @Override
    public synchronized Optional<DeadLetter> holdIfParked(DeadLetter held) {
        Objects.requireNonNull(held, "held");
        boolean parked = byId.values().stream().anyMatch(l -> l.subscription().equals(held.subscription())
                && l.key().equals(held.key()) && l.parksKey());
        return parked ? Optional.of(add(held)) : Optional.empty();
    }

    /** The letter already stored for the same event, or null. */
    private DeadLetter sameEvent(DeadLetter letter) {
        for (DeadLetter l : byId.values()) {
            if (!l.subscription().equals(letter.subscription())) {
                continue;
            }
            if (!letter.eventId().isEmpty() ? l.eventId().equals(letter.eventId())
                    : l.eventId().isEmpty() && !letter.origin().isEmpty() && l.origin().equals(letter.origin())) {
                return l;
            }
        }
        return null;
    }

    @Override
    public synchronized List<DeadLetter> list(String subscription) {
        List<DeadLetter> out = new ArrayList<>();
        for (DeadLetter letter : byId.values()) {
            if (letter.subscription().equals(subscription)) {
                out.add(letter);
            }
        }
        return out;
    }

    @Override
    public synchronized Optional<DeadLetter> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public synchronized List<DeadLetter> byKey(String subscription, String key) {
        List<DeadLetter> out = new ArrayList<>();
        for (DeadLetter letter : byId.values()) {
            if (letter.subscription().equals(subscription) && letter.key().equals(key)) {
                out.add(letter);
            }
        }
        return out;
    }

    @Override
    public synchronized Set<String> keys(String subscription) {
        Set<String> out = new LinkedHashSet<>();
        for (DeadLetter letter : byId.values()) {
            if (letter.subscription().equals(subscription)) {
                out.add(letter.key());
            }
        }
        return out;
    }

    @Override
    public synchronized boolean update(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        if (!byId.containsKey(letter.id())) {
            return false;
        }
        byId.put(letter.id(), letter); // replacing a present key keeps its insertion position
        return true;
    }

    @Override
    public synchronized boolean remove(String id) {
        return byId.remove(id) != null;
    }

    @Override
    public synchronized String toString() {
        return "InMemoryDeadLetters{" + byId.size() + " letters}";
    }
}
