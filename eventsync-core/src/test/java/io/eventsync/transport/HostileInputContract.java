package io.eventsync.transport;

import static org.awaitility.Awaitility.await;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.RawRecord.Expect.Outcome;
import io.eventsync.v1.Envelope;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * "A bad event stops nothing else", held against every transport: a seeded corpus of hostile records
 * ({@link HostileCorpus}: random bytes, mutations, truncations, U+0000 in every string attribute and
 * in the payload, invalid UTF-8, deep nesting, huge declared lengths, oversize and empty values, plus
 * the transport's own malformed metadata from {@link #addOwnMalformedRecords}), interleaved with valid
 * events, each written with the transport's own client ({@link #rawWriter}), bypassing eventsync's
 * publisher, and consumed by a real dispatcher applying to a copy in a real database
 * ({@link #newCopy}).
 *
 * <p>It asserts the accounting: every input is applied (if it is still a valid event of its own key)
 * or exactly one dead letter whose reason names the problem; no valid key is parked; the group's
 * committed position reaches the head ({@link #assertCommittedToHead}); the copy equals the source for
 * the valid keys. The seed is printed; rerun one with {@code -Deventsync.hostile.seed=<seed>}.
 *
 * <p>To add a transport, extend this class in the transport's module (with the core test-jar and, for
 * {@code io.eventsync.jdbc.PostgresCopy}, the JDBC test-jar as test dependencies) and implement the
 * four abstract methods.
 */
public abstract class HostileInputContract {

    /** The transport under test; its subscription side consumes the records. */
    protected abstract Transport newTransport() throws Exception;

    /** The consuming service: a dispatcher with {@code codec}, applying to a copy (PostgresCopy in every module). */
    protected abstract CopyUnderTest newCopy(String subscription, EnvelopeCodec codec) throws Exception;

    /** Writes records into {@code topic} with the transport's own client (not eventsync's publisher), in order. */
    protected abstract RawWriter rawWriter(String topic) throws Exception;

    /** Fails unless the group's committed position covers every record written (checked until it does). */
    protected abstract void assertCommittedToHead(SubscriptionSpec spec, Subscription subscription) throws Exception;

    /** The transport's own malformed metadata (bad headers, properties...); add them with {@link HostileCorpus#add}. */
    protected void addOwnMalformedRecords(HostileCorpus corpus) {
    }

    /** Waits until a new subscription receives what is written from now on (e.g. a Kafka assignment). */
    protected void awaitReady(Subscription subscription) throws Exception {
    }

    /** How long the accounting may take to settle. */
    protected Duration awaitTimeout() {
        return Duration.ofSeconds(60);
    }

    /** Writes raw records with a transport's own client. */
    public interface RawWriter extends AutoCloseable {
        /** Writes one record: its value, its key where the transport carries one, its metadata. */
        void write(RawRecord record) throws Exception;

        /** Returns once the broker (or database) holds everything written. */
        void flush() throws Exception;

        @Override
        void close() throws Exception;
    }

    @Test
    public void everyHostileInputIsAppliedOrDeadLetteredAndNothingElseStops() throws Exception {
        long seed = Long.getLong("eventsync.hostile.seed", ThreadLocalRandom.current().nextLong());
        System.out.println(getClass().getSimpleName() + ": hostile corpus seed " + seed
                + " (rerun with -Deventsync.hostile.seed=" + seed + ")");
        HostileCorpus corpus = new HostileCorpus(new Random(seed), 6, 12);
        addOwnMalformedRecords(corpus);
        List<RawRecord> inputs = corpus.interleaved();
        SubscriptionSpec spec = SubscriptionSpec.fanout(TestEvents.unique("hostile"), TestEvents.unique("copy"));
        EnvelopeCodec codec = EnvelopeCodec.custom().maxBytes(HostileCorpus.CONSUMER_MAX_BYTES).build();

        try (Transport transport = newTransport(); CopyUnderTest copy = newCopy(spec.group(), codec);
             RawWriter writer = rawWriter(spec.topic())) {
            Subscription subscription = transport.subscribe(spec, copy.handler());
            try {
                awaitReady(subscription);
                for (RawRecord record : inputs) {
                    writer.write(record);
                }
                writer.flush();

                Accounting accounting = settle(copy, inputs);
                System.out.println(getClass().getSimpleName() + " (seed " + seed + "):\n" + accounting.summary());
                // Every check, so that one run reports everything that does not hold.
                SoftAssertions softly = new SoftAssertions();
                softly.assertThat(accounting.failures()).as("inputs not accounted for as expected (seed %s):%n%s",
                        seed, accounting.summary()).isEmpty();
                softly.assertThat(copy.parkedKeys()).as("parked valid keys")
                        .doesNotContainAnyElementsOf(corpus.valid().keySet());
                softly.assertThat(copy.rows()).as("copy of the valid keys").containsAllEntriesOf(expectedRows(corpus));
                try {
                    await().atMost(Duration.ofSeconds(20)).ignoreExceptions()
                            .untilAsserted(() -> assertCommittedToHead(spec, subscription));
                } catch (ConditionTimeoutException e) {
                    softly.fail("the committed position did not reach the head: " + e.getMessage());
                }
                softly.assertAll();
            } finally {
                subscription.close();
            }
        }
    }

    private static Map<String, CopyUnderTest.Row> expectedRows(HostileCorpus corpus) {
        Map<String, CopyUnderTest.Row> rows = new TreeMap<>();
        corpus.valid().forEach((key, events) -> {
            Envelope last = events.get(events.size() - 1);
            rows.put(key, new CopyUnderTest.Row(key + " v" + last.getSequence(), last.getSequence()));
        });
        return rows;
    }

    /** Waits until every input is accounted for one way or another (or the time is up), then judges. */
    private Accounting settle(CopyUnderTest copy, List<RawRecord> inputs) {
        try {
            await().atMost(awaitTimeout()).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                    .until(() -> new Accounting(inputs, copy).missing() == 0 && copy.inFlight() == 0);
        } catch (ConditionTimeoutException e) {
            // Judged below: the report lists what is still missing.
        }
        return new Accounting(inputs, copy);
    }

    /** Matches every input to its inbox row or dead letter, and lists what does not add up. */
    static final class Accounting {
        private final List<String> failures = new ArrayList<>();
        private final Map<String, Map<String, Integer>> byCategory = new TreeMap<>();
        private int missing;

        Accounting(List<RawRecord> inputs, CopyUnderTest copy) {
            Set<String> applied = copy.appliedEventIds();
            Map<ByteBuffer, List<DeadLetter>> letters = new HashMap<>();
            for (DeadLetter letter : copy.deadLetters()) {
                letters.computeIfAbsent(ByteBuffer.wrap(letter.bytes()), b -> new ArrayList<>()).add(letter);
            }
            Set<String> validKeys = inputs.stream().filter(r -> r.expect().outcome() == Outcome.APPLIED)
                    .map(RawRecord::key).collect(Collectors.toSet());
            List<RawRecord> unmatched = new ArrayList<>();
            Map<RawRecord, DeadLetter> matched = new HashMap<>();
            for (RawRecord input : inputs) {
                DeadLetter letter = take(letters, input);
                if (letter != null) {
                    matched.put(input, letter);
                } else {
                    unmatched.add(input);
                }
            }
            // A transport may hand over other bytes than the record's value (Kafka's binary mode rebuilds
            // the envelope from headers): such a letter is matched by its key, which every hostile input
            // has to itself.
            Map<String, List<DeadLetter>> byKey = new HashMap<>();
            letters.values().stream().flatMap(List::stream)
                    .forEach(l -> byKey.computeIfAbsent(l.key(), k -> new ArrayList<>()).add(l));
            for (RawRecord input : unmatched) {
                List<DeadLetter> sameKey = input.key() == null || validKeys.contains(input.key()) ? null
                        : byKey.get(input.key());
                if (sameKey != null && !sameKey.isEmpty()) {
                    DeadLetter letter = sameKey.remove(0);
                    letters.get(ByteBuffer.wrap(letter.bytes())).remove(letter);
                    matched.put(input, letter);
                }
            }
            for (RawRecord input : inputs) {
                String id = decodedId(input.value());
                boolean inInbox = id != null && applied.contains(id);
                judge(input, inInbox, matched.get(input), validKeys);
            }
            letters.values().stream().flatMap(List::stream).forEach(l -> failures.add("a letter matches no input: "
                    + describe(l)));
        }

        private void judge(RawRecord input, boolean inInbox, DeadLetter letter, Set<String> validKeys) {
            RawRecord.Expect expect = input.expect();
            String got = inInbox && letter != null ? "applied AND dead-lettered (" + describe(letter) + ")"
                    : inInbox ? "applied" : letter != null ? describe(letter) : "nothing yet";
            count(input.label(), inInbox ? "applied" : letter != null ? letter.kind().name().toLowerCase() : "missing");
            String problem = null;
            if (!inInbox && letter == null) {
                missing++;
                problem = "nothing (no inbox row, no dead letter)";
            } else if (inInbox && letter != null) {
                problem = got;
            } else if (expect.outcome() == Outcome.APPLIED && !inInbox) {
                problem = got;
            } else if (expect.outcome() == Outcome.DEAD_LETTER) {
                if (letter == null) {
                    problem = "applied";
                } else if (letter.kind() != DeadLetter.Kind.FAILED) {
                    problem = describe(letter);
                } else if (!expect.reason().matcher(letter.reason()).find()) {
                    problem = "a letter whose reason does not name the problem: " + describe(letter);
                } else if (expect.firstAttemptOnly() && letter.attempts() != 1) {
                    problem = "a letter after " + letter.attempts() + " attempts (a retry cannot fix it): "
                            + describe(letter);
                }
            } else if (letter != null && letter.reason().isBlank()) {
                problem = "a letter without a reason";
            }
            if (problem == null && letter != null && validKeys.contains(letter.key())) {
                problem = "a letter on valid key " + letter.key() + ": " + describe(letter);
            }
            if (problem != null) {
                failures.add(input.label() + " (expected " + expect + "): got " + problem);
            }
        }

        /** The letter with the input's bytes; when several have them, the one whose reason fits. */
        private static DeadLetter take(Map<ByteBuffer, List<DeadLetter>> letters, RawRecord input) {
            List<DeadLetter> candidates = letters.get(ByteBuffer.wrap(input.value()));
            if (candidates == null || candidates.isEmpty()) {
                return null;
            }
            for (int i = 0; i < candidates.size(); i++) {
                if (input.expect().reason() != null && input.expect().reason().matcher(candidates.get(i).reason()).find()) {
                    return candidates.remove(i);
                }
            }
            return candidates.remove(0);
        }

        private static String decodedId(byte[] value) {
            try {
                String id = Envelope.parseFrom(value).getId();
                return id.isEmpty() ? null : id;
            } catch (Exception | StackOverflowError e) {
                return null;
            }
        }

        private static String describe(DeadLetter l) {
            String reason = l.reason().length() > 300 ? l.reason().substring(0, 300) + "..." : l.reason();
            return l.kind() + " letter (attempts " + l.attempts() + ", key '" + l.key() + "', origin '"
                    + (l.origin().length() > 120 ? l.origin().substring(0, 120) + "..." : l.origin()) + "'): "
                    + reason.replace("\u0000", "\\u0000");
        }

        private void count(String label, String outcome) {
            String category = label.replaceAll("-\\d+$", "").replaceAll("^valid .*", "valid");
            byCategory.computeIfAbsent(category, c -> new LinkedHashMap<>()).merge(outcome, 1, Integer::sum);
        }

        int missing() {
            return missing;
        }

        List<String> failures() {
            return failures;
        }

        String summary() {
            StringBuilder out = new StringBuilder();
            byCategory.forEach((category, outcomes) -> out.append("  ").append(category).append(": ")
                    .append(outcomes).append('\n'));
            if (!failures.isEmpty()) {
                out.append(failures.size()).append(" not as expected:\n");
                failures.forEach(f -> out.append("  - ").append(f).append('\n'));
            }
            return out.toString();
        }
    }
}
