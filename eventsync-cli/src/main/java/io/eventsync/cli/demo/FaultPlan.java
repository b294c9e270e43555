package io.eventsync.cli.demo;

import io.eventsync.ConfigException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Which faults the demo injects and how often. Every rate is a probability per event (for
 * {@code restart}: per event written, that one consumer is restarted then).
 *
 * @param handlerError a handler throws a transient exception on its first attempt (retried)
 * @param hang         a handler hangs past its timeout but stops when cancelled (timed out, retried)
 * @param abandon      a handler hangs past its timeout and ignores cancellation past the grace period
 *                     (abandoned: its connection is aborted, the event retried on a fresh worker)
 * @param duplicate    the transport delivers an event twice (suppressed by the inbox)
 * @param invalid      the source writes an extra event that breaks its buf.validate rules, on a key of
 *                     its own (must end in the dead letters and nowhere else)
 * @param restart      a consumer is stopped and started again (unacknowledged events are redelivered)
 */
public record FaultPlan(double handlerError, double hang, double abandon, double duplicate, double invalid,
                        double restart) {

    public static final FaultPlan NONE = new FaultPlan(0, 0, 0, 0, 0, 0);
    public static final FaultPlan DEFAULT = new FaultPlan(0.02, 0.002, 0.001, 0.01, 0.005, 0.0005);

    public FaultPlan {
        check("handler-error", handlerError);
        check("hang", hang);
        check("abandon", abandon);
        check("duplicate", duplicate);
        check("invalid", invalid);
        check("restart", restart);
    }

    public boolean any() {
        return !equals(NONE);
    }

    /**
     * Parses {@code --faults}: empty or {@code default} for {@link #DEFAULT}, {@code none}, or
     * {@code name:rate,...} where unnamed faults keep the default rate, e.g.
     * {@code handler-error:0.05,invalid:0.01}. Names: handler-error, hang, abandon, duplicate, invalid, restart.
     */
    public static FaultPlan parse(String spec) {
        if (spec == null || spec.isBlank() || spec.equalsIgnoreCase("default")) {
            return DEFAULT;
        }
        if (spec.equalsIgnoreCase("none")) {
            return NONE;
        }
        Map<String, Double> rates = DEFAULT.rates();
        for (String part : spec.split(",")) {
            String[] nameRate = part.trim().split(":", 2);
            String name = nameRate[0].trim().toLowerCase(Locale.ROOT);
            if (!rates.containsKey(name)) {
                throw new ConfigException("--faults: unknown fault '" + name + "'; known: " + rates.keySet());
            }
            if (nameRate.length != 2) {
                throw new ConfigException("--faults: '" + part.trim() + "' needs a rate, e.g. " + name + ":0.01");
            }
            try {
                rates.put(name, Double.parseDouble(nameRate[1].trim()));
            } catch (NumberFormatException e) {
                throw new ConfigException("--faults: rate of " + name + " must be a number between 0 and 1, but was '"
                        + nameRate[1].trim() + "'");
            }
        }
        return new FaultPlan(rates.get("handler-error"), rates.get("hang"), rates.get("abandon"),
                rates.get("duplicate"), rates.get("invalid"), rates.get("restart"));
    }

    /** The rates by fault name, in a fixed order. */
    public Map<String, Double> rates() {
        Map<String, Double> rates = new LinkedHashMap<>();
        rates.put("handler-error", handlerError);
        rates.put("hang", hang);
        rates.put("abandon", abandon);
        rates.put("duplicate", duplicate);
        rates.put("invalid", invalid);
        rates.put("restart", restart);
        return rates;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        rates().forEach((name, rate) -> {
            if (rate > 0) {
                text.append(text.length() == 0 ? "" : ",").append(name).append(':').append(rate);
            }
        });
        return text.length() == 0 ? "none" : text.toString();
    }

    private static void check(String name, double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new ConfigException("--faults: rate of " + name + " must be between 0 and 1, but was " + rate);
        }
    }
}
