package io.eventsync;

import java.util.List;
import java.util.stream.Collectors;

/** An event that breaks its envelope rules or its payload's {@code buf.validate} constraints. */
public class ValidationException extends PermanentException {
    private final List<Violation> violations;

    public ValidationException(List<Violation> violations) {
        super(describe(violations));
        this.violations = List.copyOf(violations);
    }

    /** Every failing field with its rule, in the order they were found. */
    public List<Violation> violations() {
        return violations;
    }

    private static String describe(List<Violation> violations) {
        return "invalid event: " + violations.stream().map(Violation::toString).collect(Collectors.joining("; "));
    }
}
