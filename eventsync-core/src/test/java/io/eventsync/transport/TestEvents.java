package io.eventsync.transport;

import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Events, names and sending helpers for transport tests: shared by {@link TransportContract} and the
 * transport modules' own tests (through the core test-jar). Events carry a {@code google.protobuf.StringValue}
 * payload and are encoded with {@code Envelope.toByteArray()}, without the codec.
 */
public final class TestEvents {
    /** How long a send may take before a test fails. */
    private static final Duration SEND_DEADLINE = Duration.ofSeconds(30);

    private TestEvents() {
    }

    /** A name unique to this test run, valid as topic or group on every transport. */
    public static String unique(String prefix) {
        return prefix + "-" + suffix();
    }

    /** Eight random characters, valid in topic, group, stream and queue names of every transport. */
    public static String suffix() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /** An envelope with a random id and a StringValue payload. */
    public static Envelope envelope(String key, long sequence) {
        return envelope(UUID.randomUUID().toString(), key, sequence);
    }

    /** An envelope with the given id and a StringValue payload ({@code key#sequence}). */
    public static Envelope envelope(String id, String key, long sequence) {
        Instant now = Instant.now();
        return Envelope.newBuilder()
                .setId(id)
                .setSource("contract")
                .setType(StringValue.getDescriptor().getFullName())
                .setSubject(key)
                .setSpecversion("1.0")
                .setSequence(sequence)
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setPayload(Any.pack(StringValue.of(key + "#" + sequence)))
                .build();
    }

    public static OutboundEvent event(String key, long sequence) {
        return outbound(envelope(key, sequence));
    }

    public static OutboundEvent event(String id, String key, long sequence) {
        return outbound(envelope(id, key, sequence));
    }

    public static OutboundEvent outbound(Envelope envelope) {
        return new OutboundEvent(envelope, envelope.toByteArray());
    }

    /** Sequences {@code fromSeq..toSeq} of keys {@code key-0..key-(keys-1)}, interleaved: all keys' 1, then all keys' 2... */
    public static List<OutboundEvent> events(int keys, int fromSeq, int toSeq) {
        List<OutboundEvent> events = new ArrayList<>();
        for (int seq = fromSeq; seq <= toSeq; seq++) {
            for (int k = 0; k < keys; k++) {
                events.add(event("key-" + k, seq));
            }
        }
        return events;
    }

    /** Sends all events pipelined and waits (up to 30 s) until the broker confirmed every one; returns them. */
    public static List<OutboundEvent> sendAll(Publisher publisher, List<OutboundEvent> events) throws Exception {
        return sendAll(publisher, events, SEND_DEADLINE);
    }

    /** Sends all events pipelined and waits up to {@code deadline} until the broker confirmed every one; returns them. */
    public static List<OutboundEvent> sendAll(Publisher publisher, List<OutboundEvent> events, Duration deadline)
            throws Exception {
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (OutboundEvent event : events) {
            sends.add(publisher.send(event));
        }
        CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        return events;
    }

    /** What a relay does: a send that fails is sent again until the broker confirms it, in order. */
    public static void sendConfirmed(Publisher publisher, List<OutboundEvent> events, Duration deadline) {
        for (OutboundEvent event : events) {
            await().atMost(deadline).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(20))
                    .ignoreExceptions().until(() -> {
                        publisher.send(event).get();
                        return true;
                    });
        }
    }

    /** The events' ids in order. */
    public static List<String> ids(List<OutboundEvent> events) {
        return events.stream().map(e -> e.envelope().getId()).toList();
    }

    /** Per key (subject), the sequences in the order the events were first received (redeliveries ignored). */
    public static Map<String, List<Long>> firstSeenSequencesByKey(Iterable<Envelope> received) {
        Set<String> seen = new HashSet<>();
        Map<String, List<Long>> byKey = new TreeMap<>();
        for (Envelope e : received) {
            if (seen.add(e.getId())) {
                byKey.computeIfAbsent(e.getSubject(), k -> new ArrayList<>()).add(e.getSequence());
            }
        }
        return byKey;
    }

    /** The events' ids as a set. */
    public static Set<String> idsOf(List<OutboundEvent> events) {
        return new HashSet<>(ids(events));
    }
}
