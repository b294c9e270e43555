package io.eventsync.transport;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;
import com.google.protobuf.WireFormat;
import io.eventsync.transport.RawRecord.Expect;
import io.eventsync.v1.Envelope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * The inputs of {@link HostileInputContract}, from a seeded {@link Random}: valid events of a few
 * keys, and hostile records that each carry a key of their own (so none is held behind another, and
 * each becomes its own FAILED letter with its own reason): random bytes, random mutations and
 * truncations of valid envelopes, U+0000 in every string attribute and in the payload string, invalid
 * UTF-8, deep nesting, huge declared lengths, oversize envelopes, an empty value.
 *
 * <p>Hostile keys ({@code x-...}) differ from valid keys ({@code acct-...}) in more bytes than a
 * mutation changes, so no mutated record can become an event of a valid key.
 */
public final class HostileCorpus {
    /** Bytes of an envelope the consumer accepts at most; oversize records are larger, yet fit every transport. */
    public static final int CONSUMER_MAX_BYTES = 64 * 1024;
    public static final String SOURCE = "hostile";

    private static final String NUL_REASON = "0x00|U\\+0000|\\\\u0000|\\bNUL\\b|null character";
    private static final int NESTING = 10_000;

    private final Random random;
    private final long startSeconds = Instant.now().getEpochSecond();
    private final Map<String, List<Envelope>> valid = new LinkedHashMap<>();
    private final List<RawRecord> hostile = new ArrayList<>();
    private int hostileKeys;

    public HostileCorpus(Random random, int validKeys, int eventsPerKey) {
        this.random = random;
        for (int k = 0; k < validKeys; k++) {
            String key = String.format("acct-%04d", k);
            List<Envelope> events = new ArrayList<>();
            for (int seq = 1; seq <= eventsPerKey; seq++) {
                events.add(envelope(key, seq, key + " v" + seq));
            }
            valid.put(key, events);
        }
        addGenericHostileRecords();
    }

    /** The valid events by key, in sequence order. */
    public Map<String, List<Envelope>> valid() {
        return valid;
    }

    /** A key for one more hostile record; distinct from every other key. */
    public String hostileKey(String what) {
        return "x-" + what + "-" + (hostileKeys++);
    }

    public Random random() {
        return random;
    }

    /**
     * A valid envelope with a StringValue payload. Its id comes from the seeded generator and its time is
     * this run's start (whole seconds, fixed nanos), so a seed reproduces every byte of the corpus.
     */
    public Envelope envelope(String key, long sequence, String value) {
        UUID id = new UUID(random.nextLong(), random.nextLong());
        return Envelope.newBuilder()
                .setId(id.toString())
                .setSource(SOURCE)
                .setType(StringValue.getDescriptor().getFullName())
                .setSubject(key)
                .setSpecversion("1.0")
                .setSequence(sequence)
                .setTime(Timestamp.newBuilder().setSeconds(startSeconds).setNanos(123_456_789))
                .setPayload(Any.pack(StringValue.of(value)))
                .build();
    }

    /** Adds a transport's own malformed record. */
    public void add(RawRecord record) {
        hostile.add(record);
    }

    /**
     * Every input in the order to write it: the valid events of each key in sequence order, interleaved
     * at random with the hostile records, which are shuffled.
     */
    public List<RawRecord> interleaved() {
        List<RawRecord> bad = new ArrayList<>(hostile);
        java.util.Collections.shuffle(bad, random);
        List<List<Envelope>> queues = new ArrayList<>();
        valid.values().forEach(events -> queues.add(new ArrayList<>(events)));
        int remainingValid = valid.values().stream().mapToInt(List::size).sum();
        List<RawRecord> out = new ArrayList<>();
        int b = 0;
        while (remainingValid > 0 || b < bad.size()) {
            if (b < bad.size() && random.nextInt(remainingValid + bad.size() - b) >= remainingValid) {
                out.add(bad.get(b++));
                continue;
            }
            List<List<Envelope>> nonEmpty = queues.stream().filter(q -> !q.isEmpty()).toList();
            Envelope next = nonEmpty.get(random.nextInt(nonEmpty.size())).remove(0);
            out.add(new RawRecord("valid " + next.getSubject() + "#" + next.getSequence(), next.toByteArray(),
                    next.getSubject(), Expect.applied()));
            remainingValid--;
        }
        return out;
    }

    private void addGenericHostileRecords() {
        for (int i = 0; i < 15; i++) {
            byte[] bytes = new byte[1 + random.nextInt(300)];
            random.nextBytes(bytes);
            hostile.add(new RawRecord("random-bytes-" + i, bytes, hostileKey("random"), Expect.deadLetter(".")));
        }
        for (int i = 0; i < 15; i++) {
            String key = hostileKey("mutated");
            hostile.add(new RawRecord("mutated-" + i, mutate(envelope(key, 1, "m" + i).toByteArray()), key,
                    Expect.either()));
        }
        for (int i = 0; i < 8; i++) {
            String key = hostileKey("truncated");
            byte[] whole = envelope(key, 1, "t" + i).toByteArray();
            // The payload is the last field written, so every cut loses or breaks it: never a valid event.
            // A cut between fields decodes: then the first missing attribute is the reason, and a missing
            // type reads "no handler for payload type ''" (the dispatcher looks for the handler first).
            byte[] cut = Arrays.copyOf(whole, 1 + random.nextInt(whole.length - 1));
            hostile.add(new RawRecord("truncated-" + i, cut, key,
                    Expect.deadLetter("truncat|required|undecodable|malformed|invalid|payload type ''")));
        }
        addNulRecords();
        addInvalidUtf8Records();
        addNestingRecords();
        addHugeLengthRecords();
        String big = hostileKey("oversize");
        byte[] oversize = envelope(big, 1, "o".repeat(CONSUMER_MAX_BYTES + 10_000)).toByteArray();
        hostile.add(new RawRecord("oversize", oversize, big, Expect.deadLetter("limit|too large|bytes")));
        hostile.add(new RawRecord("empty-value", new byte[0], hostileKey("empty"), Expect.deadLetter("empty|null")));
    }

    /** U+0000 in each string attribute: a valid protobuf string, refused by PostgreSQL text. */
    private void addNulRecords() {
        nul("id", (e) -> e.setId(e.getId().substring(0, 8) + "\u0000" + e.getId().substring(8)),
                Expect.deadLetter("\\bid\\b"));
        nul("type", (e) -> e.setType(e.getType() + "\u0000"), Expect.deadLetter("type"));
        nul("specversion", (e) -> e.setSpecversion("1.0\u0000"), Expect.deadLetter("specversion"));
        nul("subject", (e) -> e.setSubject(e.getSubject() + "\u0000"), Expect.deadLetter(NUL_REASON).atFirstAttempt());
        nul("source", (e) -> e.setSource(SOURCE + "\u0000"), Expect.deadLetter(NUL_REASON).atFirstAttempt());
        // Stored nowhere and checked by no rule: still a valid event of its own key.
        nul("partition-key", (e) -> e.setPartitionKey(e.getSubject() + "\u0000"), Expect.either());
        nul("traceparent", (e) -> e.setTraceparent("00-\u0000"), Expect.either());
        nul("attribute", (e) -> e.putAttributes("k\u0000", "v\u0000"), Expect.either());
        for (int i = 0; i < 2; i++) {
            String key = hostileKey("nul-payload");
            Envelope e = envelope(key, 1, "before\u0000after " + i);
            hostile.add(new RawRecord("nul-in-payload-" + i, e.toByteArray(), key,
                    Expect.deadLetter(NUL_REASON).atFirstAttempt()));
        }
    }

    private void nul(String attribute, UnaryOperator<Envelope.Builder> change, Expect expect) {
        String key = hostileKey("nul-" + attribute);
        Envelope e = change.apply(envelope(key, 1, "nul in " + attribute).toBuilder()).build();
        hostile.add(new RawRecord("nul-in-" + attribute, e.toByteArray(), key, expect));
    }

    /** Bytes that are not UTF-8 in a string field: the protobuf parser refuses them. */
    private void addInvalidUtf8Records() {
        int[] fields = {Envelope.ID_FIELD_NUMBER, Envelope.SOURCE_FIELD_NUMBER, Envelope.TYPE_FIELD_NUMBER,
                Envelope.SUBJECT_FIELD_NUMBER};
        for (int field : fields) {
            String key = hostileKey("utf8");
            Envelope e = envelope(key, 1, "bad utf-8");
            byte[] bad = {'x', (byte) 0xC3, 0x28, (byte) 0xFF};
            hostile.add(new RawRecord("invalid-utf8-field-" + field, concat(e.toByteArray(),
                    lengthDelimited(field, bad)), key, Expect.deadLetter("UTF-8")));
        }
    }

    /** 10,000 nested groups, in the envelope (an unknown field) and in the payload. */
    private void addNestingRecords() {
        String key = hostileKey("nested");
        byte[] groups = nestedGroups(19);
        hostile.add(new RawRecord("deep-nesting-envelope", concat(envelope(key, 1, "deep").toByteArray(), groups),
                key, Expect.deadLetter("nest|recursion|deep")));
        String payloadKey = hostileKey("nested-payload");
        Envelope e = envelope(payloadKey, 1, "deep").toBuilder()
                .setPayload(Any.newBuilder().setTypeUrl("type.googleapis.com/google.protobuf.StringValue")
                        .setValue(ByteString.copyFrom(nestedGroups(7)))).build();
        hostile.add(new RawRecord("deep-nesting-payload", e.toByteArray(), payloadKey,
                Expect.deadLetter("nest|recursion|deep")));
    }

    /** A length prefix far beyond the bytes that follow, and a negative one. */
    private void addHugeLengthRecords() {
        String key = hostileKey("huge");
        hostile.add(new RawRecord("huge-declared-length", concat(envelope(key, 1, "huge").toByteArray(),
                header(Envelope.SUBJECT_FIELD_NUMBER, Integer.MAX_VALUE), new byte[] {'a', 'b'}), key,
                Expect.deadLetter("truncat|length|limit|size")));
        String key2 = hostileKey("huge-payload");
        hostile.add(new RawRecord("huge-declared-payload-length", concat(envelope(key2, 1, "huge").toByteArray(),
                header(Envelope.PAYLOAD_FIELD_NUMBER, 2_000_000_000), new byte[] {1, 2, 3}), key2,
                Expect.deadLetter("truncat|length|limit|size")));
        String key3 = hostileKey("negative");
        hostile.add(new RawRecord("negative-declared-length", concat(envelope(key3, 1, "neg").toByteArray(),
                header(Envelope.SOURCE_FIELD_NUMBER, -1), new byte[] {1}), key3,
                Expect.deadLetter("negative|length|truncat|malformed")));
    }

    /** One to three random byte flips, insertions or deletions. */
    private byte[] mutate(byte[] bytes) {
        byte[] out = bytes;
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            int at = random.nextInt(out.length);
            switch (random.nextInt(3)) {
                case 0 -> {
                    out = out.clone();
                    out[at] = (byte) (out[at] ^ (1 + random.nextInt(255)));
                }
                case 1 -> out = concat(Arrays.copyOf(out, at), new byte[] {(byte) random.nextInt(256)},
                        Arrays.copyOfRange(out, at, out.length));
                default -> out = concat(Arrays.copyOf(out, at), Arrays.copyOfRange(out, at + 1, out.length));
            }
        }
        return out;
    }

    private static byte[] nestedGroups(int field) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            for (int i = 0; i < NESTING; i++) {
                out.writeTag(field, WireFormat.WIRETYPE_START_GROUP);
            }
            for (int i = 0; i < NESTING; i++) {
                out.writeTag(field, WireFormat.WIRETYPE_END_GROUP);
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static byte[] lengthDelimited(int field, byte[] value) {
        return concat(header(field, value.length), value);
    }

    /** A length-delimited field's tag and declared length, without the bytes. */
    private static byte[] header(int field, int declaredLength) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            out.writeTag(field, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeInt32NoTag(declaredLength); // a negative int32 is written as a 10-byte varint
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
