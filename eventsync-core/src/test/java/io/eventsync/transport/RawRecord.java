package io.eventsync.transport;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One input of {@link HostileInputContract}, written into a topic with the transport's own client,
 * bypassing eventsync's publisher.
 *
 * @param label    names the case in the test's report ({@code nul-in-id}, {@code random-bytes-7})
 * @param value    the record's value (body, data, payload); empty for an empty value
 * @param key      what the writer puts where the transport carries a key (a header, the record key, the
 *                 log's key column), or null for none
 * @param metadata transport-specific extras the writer of that transport understands (headers,
 *                 properties); empty for the generic corpus
 * @param expect   what the consumer must make of it
 */
public record RawRecord(String label, byte[] value, String key, Map<String, Object> metadata, Expect expect) {
    public RawRecord {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(value, "value");
        metadata = Map.copyOf(metadata);
        Objects.requireNonNull(expect, "expect");
    }

    public RawRecord(String label, byte[] value, String key, Expect expect) {
        this(label, value, key, Map.of(), expect);
    }

    /** What a record must end as. */
    public record Expect(Outcome outcome, Pattern reason, boolean firstAttemptOnly) {
        public enum Outcome {
            /** A valid event of its own key: applied (an inbox row), no dead letter. */
            APPLIED,
            /** Exactly one FAILED dead letter whose reason matches {@link #reason()}. */
            DEAD_LETTER,
            /** Still a valid event of its own key (applied) or not (exactly one dead letter): a random mutation. */
            EITHER
        }

        public static Expect applied() {
            return new Expect(Outcome.APPLIED, null, false);
        }

        /** One FAILED letter whose reason matches {@code regex} (case-insensitive, found anywhere). */
        public static Expect deadLetter(String regex) {
            return new Expect(Outcome.DEAD_LETTER, Pattern.compile(regex, Pattern.CASE_INSENSITIVE), false);
        }

        public static Expect either() {
            return new Expect(Outcome.EITHER, null, false);
        }

        /** And the letter was written at the first attempt: a retry cannot fix what is wrong. */
        public Expect atFirstAttempt() {
            return new Expect(outcome, reason, true);
        }

        @Override
        public String toString() {
            return outcome + (reason == null ? "" : " /" + reason.pattern() + "/") + (firstAttemptOnly ? " at attempt 1" : "");
        }
    }
}
