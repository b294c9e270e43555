package io.eventsync.envelope.internal;

import com.google.protobuf.Timestamp;
import io.eventsync.Violation;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.v1.Envelope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The envelope's own rules, checked by hand rather than through buf.validate annotations on the
 * envelope: the time window depends on configuration (clock skew), and the type must agree with
 * the payload, a cross-field rule. Rule ids follow protovalidate's names where one exists.
 */
public final class EnvelopeRules {
    /** No event of this system is older than this; an earlier time is a unit mix-up (e.g. seconds as millis). */
    static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");

    private final Clock clock;
    private final Duration maxClockSkew;
    private final int maxBytes;

    public EnvelopeRules(Clock clock, Duration maxClockSkew, int maxBytes) {
        this.clock = clock;
        this.maxClockSkew = maxClockSkew;
        this.maxBytes = maxBytes;
    }

    public void check(Envelope e, List<Violation> out) {
        if (e.getId().isEmpty()) {
            out.add(new Violation("id", "required", "value is required"));
        } else if (!isUuid(e.getId())) {
            out.add(new Violation("id", "string.uuid", "value must be a valid UUID, was '" + e.getId() + "'"));
        }
        required("source", e.getSource(), out);
        required("subject", e.getSubject(), out);
        if (e.getType().isEmpty()) {
            out.add(new Violation("type", "required", "value is required"));
        } else if (e.hasPayload() && !e.getType().equals(TypeRegistry.typeName(e.getPayload()))) {
            out.add(new Violation("type", "type.matches_payload", "value '" + e.getType()
                    + "' must equal the payload's type '" + TypeRegistry.typeName(e.getPayload()) + "'"));
        }
        if (!Events.SPEC_VERSION.equals(e.getSpecversion())) {
            out.add(new Violation("specversion", "string.const", "value must equal '" + Events.SPEC_VERSION
                    + "', was '" + e.getSpecversion() + "'"));
        }
        if (e.getSequence() < 1) {
            out.add(new Violation("sequence", "int64.gte", "value must be greater than or equal to 1, was "
                    + e.getSequence()));
        }
        checkTime(e, out);
        if (!e.hasPayload()) {
            out.add(new Violation("payload", "required", "value is required"));
        }
        int size = e.getSerializedSize();
        if (size > maxBytes) {
            out.add(new Violation("envelope", "envelope.max_bytes", "envelope is " + size + " bytes, over the "
                    + maxBytes + "-byte limit"));
        }
    }

    private void checkTime(Envelope e, List<Violation> out) {
        if (!e.hasTime()) {
            out.add(new Violation("time", "required", "value is required"));
            return;
        }
        Timestamp t = e.getTime();
        if (t.getNanos() < 0 || t.getNanos() > 999_999_999) {
            out.add(new Violation("time", "timestamp.valid", "nanos must be in [0, 999999999], was " + t.getNanos()));
            return;
        }
        Instant time;
        try {
            time = Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
        } catch (java.time.DateTimeException ex) {
            out.add(new Violation("time", "timestamp.valid", "seconds out of range, was " + t.getSeconds()));
            return;
        }
        if (time.isBefore(EARLIEST)) {
            out.add(new Violation("time", "timestamp.gte", "value must not be before " + EARLIEST + ", was " + time));
        }
        Instant latest = clock.instant().plus(maxClockSkew);
        if (time.isAfter(latest)) {
            out.add(new Violation("time", "timestamp.lte_now_plus_skew", "value must not be more than "
                    + maxClockSkew + " in the future, was " + time));
        }
    }

    private static void required(String field, String value, List<Violation> out) {
        if (value.isEmpty()) {
            out.add(new Violation(field, "required", "value is required"));
        }
    }

    /** 8-4-4-4-12 hex digits, any version; hand-written because it runs for every event. */
    static boolean isUuid(String s) {
        if (s.length() != 36) {
            return false;
        }
        for (int i = 0; i < 36; i++) {
            char c = s.charAt(i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (c != '-') {
                    return false;
                }
            } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                return false;
            }
        }
        return true;
    }
}
