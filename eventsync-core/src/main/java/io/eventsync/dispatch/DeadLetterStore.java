package io.eventsync.dispatch;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where dead letters are kept: in memory (core, for tests and the in-process bus) or in a table of the
 * consumer's database (JDBC module). Implementations are thread-safe; {@link #add} is durable when it
 * returns, because the dispatcher acknowledges the event right after.
 *
 * <p>The store, not a process, is the truth about which keys are parked: a key is parked while it has
 * a letter with {@link DeadLetter#parksKey()}. Every instance of a subscription (a standby taking over,
 * a consumer that received a partition in a rebalance, a CLI process replaying a letter) reads it here,
 * so a letter written by one is seen by all.
 */
public interface DeadLetterStore {

    /**
     * Stores a letter, once per event: when the subscription already has a letter for the same event
     * id (the event was delivered again after a crash or a rebalance), no second letter is added. A
     * FAILED letter for that event then updates the stored one in its place (attempts added, reason and
     * last failure replaced, a HELD one becomes FAILED); a HELD letter changes nothing. A letter without
     * an event id (bytes that did not decode) is matched by its non-empty {@link DeadLetter#origin()}.
     * Letters of one key keep the order in which they were first added.
     *
     * @return the letter as stored: {@code letter} itself, or the one that was already there, updated
     */
    DeadLetter add(DeadLetter letter);

    /**
     * Stores a HELD letter only if its key is parked now, checked atomically with the write where the
     * store can (the JDBC store does it in one statement), so a key released meanwhile by another
     * process never gets a letter nobody will release.
     *
     * @return the stored letter (or the letter the event already had); empty when the key is not parked,
     *         and then the caller applies the event instead
     */
    Optional<DeadLetter> holdIfParked(DeadLetter held);

    /** Every letter of a subscription, oldest first. */
    List<DeadLetter> list(String subscription);

    Optional<DeadLetter> get(String id);

    /** Letters of one key of a subscription, oldest first (the FAILED one, then the HELD ones). */
    List<DeadLetter> byKey(String subscription, String key);

    /** Keys that currently have a letter, whether or not it parks them. */
    Set<String> keys(String subscription);

    /** Keys parked now: those with a letter that {@linkplain DeadLetter#parksKey() parks} them. */
    default Set<String> parkedKeys(String subscription) {
        Set<String> out = new LinkedHashSet<>();
        for (DeadLetter letter : list(subscription)) {
            if (letter.parksKey() && !letter.key().isEmpty()) {
                out.add(letter.key());
            }
        }
        return out;
    }

    /** Of {@code keys}, those parked now; the JDBC store answers in one query. */
    default Set<String> parkedAmong(String subscription, Collection<String> keys) {
        Set<String> parked = parkedKeys(subscription);
        Set<String> out = new LinkedHashSet<>();
        for (String key : keys) {
            if (parked.contains(key)) {
                out.add(key);
            }
        }
        return out;
    }

    /**
     * Keys whose oldest parking letter is HELD: nothing FAILED is ahead of them any more, so they wait
     * for no one (a release was interrupted by a crash, or raced with a hold). The dispatcher releases
     * them in order.
     */
    default Set<String> orphanedKeys(String subscription) {
        Set<String> decided = new LinkedHashSet<>();
        Set<String> out = new LinkedHashSet<>();
        for (DeadLetter letter : list(subscription)) {
            if (!letter.parksKey() || letter.key().isEmpty() || !decided.add(letter.key())) {
                continue;
            }
            if (letter.kind() == DeadLetter.Kind.HELD) {
                out.add(letter.key());
            }
        }
        return out;
    }

    /**
     * Replaces the letter with the same id, keeping its place in its key's order (e.g. a HELD letter
     * that failed on release becomes the key's FAILED letter). Returns false if it was not there.
     */
    boolean update(DeadLetter letter);

    /** Removes a letter once it was replayed successfully or discarded. Returns false if it was not there. */
    boolean remove(String id);
}
