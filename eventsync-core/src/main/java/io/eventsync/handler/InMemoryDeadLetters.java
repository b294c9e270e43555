package io.eventsync.handler;

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
    public synchronized void add(DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        if (byId.containsKey(letter.id())) {
            throw new IllegalArgumentException("a dead letter with id " + letter.id() + " is already stored");
        }
        byId.put(letter.id(), letter);
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
