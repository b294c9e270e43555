package io.eventsync;

import java.util.Objects;

/**
 * A consistency token: where an event stands in its source's outbox. Returned by the outbox when the
 * event is appended; a caller passes it to {@code awaitApplied} to read its own write on a copy.
 *
 * @param source the outbox (service) the position belongs to
 * @param value  increases with commit order within one source
 */
public record Position(String source, long value) implements Comparable<Position> {
    public Position {
        Objects.requireNonNull(source, "source");
    }

    @Override
    public int compareTo(Position other) {
        if (!source.equals(other.source)) {
            throw new IllegalArgumentException("positions of different sources cannot be compared: "
                    + source + " vs " + other.source);
        }
        return Long.compare(value, other.value);
    }

    /** A compact text form, {@code source@value}, for headers and logs. */
    @Override
    public String toString() {
        return source + "@" + value;
    }

    /** Parses {@link #toString()}'s form. */
    public static Position parse(String text) {
        int at = text == null ? -1 : text.lastIndexOf('@');
        if (at <= 0 || at == text.length() - 1) {
            throw new IllegalArgumentException("not a position (expected source@number): " + text);
        }
        try {
            return new Position(text.substring(0, at), Long.parseLong(text.substring(at + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a position (expected source@number): " + text, e);
        }
    }
}
