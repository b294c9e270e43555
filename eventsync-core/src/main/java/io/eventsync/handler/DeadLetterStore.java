package io.eventsync.handler;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where dead letters are kept: in memory (core, for tests and the in-process bus) or in a table of the
 * consumer's database (JDBC module). Implementations are thread-safe; {@link #add} is durable when it
 * returns, because the dispatcher acknowledges the event right after.
 */
public interface DeadLetterStore {

    /** Stores a letter. Letters of one key keep the order in which they were added. */
    void add(DeadLetter letter);

    /** Every letter of a subscription, oldest first. */
    List<DeadLetter> list(String subscription);

    Optional<DeadLetter> get(String id);

    /** Letters of one key of a subscription, oldest first (the FAILED one, then the HELD ones). */
    List<DeadLetter> byKey(String subscription, String key);

    /** Keys that currently have a letter (parked keys when the policy is PARK_KEY). */
    Set<String> keys(String subscription);

    /**
     * Replaces the letter with the same id, keeping its place in its key's order (e.g. a HELD letter
     * that failed on release becomes the key's FAILED letter). Returns false if it was not there.
     */
    boolean update(DeadLetter letter);

    /** Removes a letter once it was replayed successfully or discarded. Returns false if it was not there. */
    boolean remove(String id);
}
