package io.eventsync.dispatch.internal;

import io.eventsync.DecodeException;
import io.eventsync.ValidationException;

/**
 * Why an event became a dead letter: one class per cause, with the label a letter's reason starts with
 * and the {@code reason} tag of {@code eventsync.dispatcher.dead_lettered}. {@link #of} is the one
 * mapping from a failure to its class.
 */
enum DeadLetterReason {
    /** The transport found the record malformed (bad headers, no value) before anything was decoded. */
    MALFORMED("malformed"),
    /** The bytes are not an envelope, or the payload does not decode as its type. */
    UNDECODABLE("undecodable"),
    /** No handler is registered for the payload type (and unknown types are not skipped). */
    UNKNOWN_TYPE("unknown_type"),
    /** The payload fails validation. */
    INVALID("invalid"),
    /** The handler answered {@code Outcome.reject}. */
    REJECTED("rejected"),
    /** The handler threw a {@code PermanentException}. */
    PERMANENT("permanent"),
    /** Every attempt the retry policy allows failed. */
    EXHAUSTED("exhausted");

    final String label;

    DeadLetterReason(String label) {
        this.label = label;
    }

    /** The class of a failure that ends an event at once (a permanent one). */
    static DeadLetterReason of(Throwable permanent) {
        if (permanent instanceof ValidationException) {
            return INVALID;
        }
        if (permanent instanceof DecodeException) {
            return UNDECODABLE;
        }
        return PERMANENT;
    }

    /** The letter's reason text: the error's message, after the label where the message does not name it. */
    String describe(Throwable error) {
        return this == EXHAUSTED || this == REJECTED ? error.getMessage() : label + ": " + error.getMessage();
    }
}
