package io.eventsync.http.internal;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** A request's query string, strictly checked: unknown or repeated parameters are refused with 400. */
public final class QueryParameters {
    private final Map<String, String> values = new HashMap<>();

    public QueryParameters(String rawQuery, Set<String> allowed) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (!allowed.contains(name)) {
                throw new HttpProblem(400, "unknown parameter '" + name + "': this endpoint takes " + String.join(", ", allowed.stream().sorted().toList()));
            }
            if (values.put(name, value) != null) {
                throw new HttpProblem(400, "parameter '" + name + "' is given more than once");
            }
        }
    }

    public String text(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    /** A whole number in [min, max]; {@code fallback} when absent. */
    public long number(String name, long fallback, long min, long max, String meaning) {
        String raw = values.get(name);
        if (raw == null) {
            return fallback;
        }
        long value;
        try {
            value = Long.parseLong(raw);
        } catch (NumberFormatException e) {
            throw new HttpProblem(400, name + "=" + raw + " is not a whole number: " + meaning);
        }
        if (value < min || value > max) {
            throw new HttpProblem(400, name + "=" + raw + " is out of range [" + min + ", " + max + "]: " + meaning);
        }
        return value;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpProblem(400, "malformed query string: " + e.getMessage());
        }
    }
}
