package io.eventsync.dispatch.internal;

import java.util.concurrent.CompletableFuture;

/**
 * A replay or discard of a key's FAILED dead letter, then the in-order release of the letters held
 * behind it. It runs as an entry of the key's lane so that events arriving meanwhile wait behind it.
 */
final class Release extends Entry {
    /** REPLAY/DISCARD a FAILED letter; RESUME releases held letters that wait behind nothing. */
    enum Mode { REPLAY, DISCARD, RESUME }

    final Mode mode;
    /** The FAILED letter replayed or discarded; null for RESUME. */
    final String letterId;
    /** Completes true when every letter of the key was released, false when one failed again. */
    final CompletableFuture<Boolean> result = new CompletableFuture<>();
    boolean started;
    /** The letter being re-applied right now, with its attempt state. */
    Work current;

    Release(String key, Mode mode, String letterId) {
        super(key);
        this.mode = mode;
        this.letterId = letterId;
    }
}
