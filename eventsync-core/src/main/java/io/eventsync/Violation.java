package io.eventsync;

import java.util.Objects;

/**
 * One failed constraint of an event: the field path (e.g. {@code payload.amount_cents} or
 * {@code subject}), the rule id (e.g. {@code int64.gt}, {@code required}) and a readable message.
 */
public record Violation(String field, String rule, String message) {
    public Violation {
        Objects.requireNonNull(field, "field");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return field + ": " + message + " [" + rule + "]";
    }
}
