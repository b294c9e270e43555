package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import io.eventsync.DecodeException;
import io.eventsync.PermanentException;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.v1.Envelope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.quicktheories.WithQuickTheories;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Codec properties on QuickTheories. A failure prints the shrunk case and the seed;
 * {@code -DQT_SEED=<seed>} replays that run. Every property counts the cases it checked, since
 * QuickTheories skips a case it has already tried: each asks for a margin over its tries.
 */
class EnvelopeCodecPropertiesTest implements WithQuickTheories {
    private static final Duration FINISHES_WITHIN = Duration.ofSeconds(20);
    private final EnvelopeCodec codec = EnvelopeCodec.defaults();
    private final AtomicInteger checked = new AtomicInteger();

    @Test
    void everyEnvelopeSurvivesEncodeAndDecode() {
        theory(300).forAll(envelopes()).checkAssert(envelope -> {
            checked.incrementAndGet();
            assertThat(codec.decode(codec.encode(envelope))).isEqualTo(envelope);
        });
        assertCheckedAtLeast(300);
    }

    @Test
    void unknownFieldsSurviveDecodeAndReencodeByteForByte() {
        theory(300).forAll(envelopes(), unknownFields()).checkAssert((envelope, unknown) -> {
            checked.incrementAndGet();
            byte[] bytes = EnvelopeCodecTest.concat(codec.encode(envelope), unknown);

            Envelope decoded = codec.decode(bytes);

            assertThat(decoded.getUnknownFields().asMap()).isNotEmpty();
            assertThat(decoded.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance()).build())
                    .isEqualTo(envelope);
            assertThat(codec.encode(decoded)).isEqualTo(bytes);
        });
        assertCheckedAtLeast(300);
    }

    @Test
    void randomBytesGiveOnlyADecodeError() {
        theory(1000).forAll(bytes(0, 2000)).checkAssert(bytes -> {
            checked.incrementAndGet();
            assertOnlyDecodeError(bytes);
        });
        assertCheckedAtLeast(1000);
    }

    @Test
    void truncatedEncodingsGiveOnlyADecodeError() {
        theory(500).forAll(envelopes(), integers().between(0, 10_000)).checkAssert((envelope, cut) -> {
            checked.incrementAndGet();
            byte[] bytes = codec.encode(envelope);
            assertOnlyDecodeError(Arrays.copyOf(bytes, cut % Math.max(1, bytes.length)));
        });
        assertCheckedAtLeast(500);
    }

    @Test
    void corruptedEncodingsGiveOnlyADecodeError() {
        theory(500).forAll(envelopes(), integers().between(0, 10_000), anyByte()).checkAssert((envelope, position, value) -> {
            checked.incrementAndGet();
            byte[] bytes = codec.encode(envelope);
            if (bytes.length > 0) {
                bytes[position % bytes.length] = value;
            }
            assertOnlyDecodeError(bytes);
        });
        assertCheckedAtLeast(500);
    }

    @Test
    void envelopesOverTheLimitAreRejectedNamingTheLimit() {
        theory(50).forAll(integers().between(64, 4096), integers().between(1, 4096)).checkAssert((limit, excess) -> {
            checked.incrementAndGet();
            EnvelopeCodec small = EnvelopeCodec.custom().maxBytes(limit).build();
            Envelope big = Events.create("src", "s", 1,
                    OrderCancelled.newBuilder().setOrderId("o").setReason("r".repeat(limit + excess)).build());
            byte[] bytes = big.toByteArray();
            try {
                small.encode(big);
                throw new AssertionError("encode accepted " + bytes.length + " bytes over a " + limit + "-byte limit");
            } catch (PermanentException e) {
                assertThat(e).hasMessageContaining(bytes.length + " bytes").hasMessageContaining(limit + "-byte limit");
            }
            try {
                small.decode(bytes);
                throw new AssertionError("decode accepted " + bytes.length + " bytes over a " + limit + "-byte limit");
            } catch (DecodeException e) {
                assertThat(e).hasMessageContaining(limit + "-byte limit");
            }
        });
        assertCheckedAtLeast(50);
    }

    private org.quicktheories.QuickTheory theory(int tries) {
        checked.set(0);
        return qt().withExamples(tries + tries / 5);
    }

    private void assertCheckedAtLeast(int tries) {
        assertThat(checked).as("distinct cases checked").hasValueGreaterThanOrEqualTo(tries);
    }

    private void assertOnlyDecodeError(byte[] bytes) {
        assertTimeoutPreemptively(FINISHES_WITHIN, () -> {
            try {
                codec.decode(bytes);
            } catch (DecodeException e) {
                assertThat(e.getClass()).isEqualTo(DecodeException.class);
                assertThat(e.getMessage()).startsWith("cannot decode envelope");
            } catch (Throwable t) {
                throw new AssertionError("decode threw " + t + " instead of DecodeException", t);
            }
        });
    }

    private Gen<Envelope> envelopes() {
        Gen<String> text = text(40);
        Gen<Boolean> coin = booleans().all();
        Gen<Boolean> mostly = integers().between(0, 9).map(tenth -> tenth != 0);
        Gen<String> ids = longs().all().zip(longs().all(), (high, low) -> new UUID(high, low).toString());
        Gen<Timestamp> times = longs().between(-62_135_596_800L, 253_402_300_799L)
                .zip(integers().between(0, 999_999_999), (s, n) -> Timestamp.newBuilder().setSeconds(s).setNanos(n).build());
        Gen<String> specversions = Generate.pick(List.of("1.0", "", "0.3"));
        Gen<Map<String, String>> attributes = maps(text, text, 5);
        Gen<Any> payloads = payloads();
        Gen<Envelope> envelopes = in -> {
            Envelope.Builder b = Envelope.newBuilder();
            b.setId(coin.generate(in) ? ids.generate(in) : "");
            b.setSource(text.generate(in));
            b.setType(text.generate(in));
            b.setSubject(text.generate(in));
            if (mostly.generate(in)) {
                b.setTime(times.generate(in));
            }
            b.setSpecversion(specversions.generate(in));
            b.setSequence(longs().all().generate(in));
            b.setPartitionKey(text.generate(in));
            b.setTraceparent(text.generate(in));
            if (mostly.generate(in)) {
                b.setPayload(payloads.generate(in));
            }
            b.putAllAttributes(attributes.generate(in));
            b.setTombstone(coin.generate(in));
            b.setPosition(longs().between(0, Long.MAX_VALUE).generate(in));
            return b.build();
        };
        return envelopes.describedAs(Envelope::toString);
    }

    private Gen<Any> payloads() {
        Gen<String> text = text(30);
        Gen<LineItem> items = text.zip(integers().all(), (sku, q) -> LineItem.newBuilder().setSku(sku).setQuantity(q).build());
        Gen<List<LineItem>> itemLists = lists().of(items).ofSizeBetween(0, 4);
        Gen<Map<String, String>> labels = maps(text, text, 3);
        Gen<OrderPlaced> orders = in -> OrderPlaced.newBuilder().setOrderId(text.generate(in))
                .setCustomerEmail(text.generate(in)).setAmountCents(longs().all().generate(in))
                .addAllItems(itemLists.generate(in)).putAllLabels(labels.generate(in)).build();
        Gen<OrderCancelled> cancels = text.zip(text, (id, reason) -> OrderCancelled.newBuilder().setOrderId(id).setReason(reason).build());
        Gen<Any> raw = text.zip(bytes(0, 64), (url, value) -> Any.newBuilder().setTypeUrl(url).setValue(ByteString.copyFrom(value)).build());
        return Generate.oneOf(orders.map(o -> Any.pack(o)), cancels.map(o -> Any.pack(o)), raw);
    }

    /**
     * Strings of up to {@code maxCodePoints} code points from all of Unicode except the surrogate
     * range (a lone surrogate is not a string protobuf can carry); shrinks towards "a".
     */
    private static Gen<String> text(int maxCodePoints) {
        int surrogates = Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1;
        Gen<Integer> codePoints = Generate.range(0, Character.MAX_CODE_POINT - surrogates, 'a')
                .map(c -> c < Character.MIN_SURROGATE ? c : c + surrogates);
        return Generate.intArrays(Generate.range(0, maxCodePoints), codePoints).map(cs -> new String(cs, 0, cs.length));
    }

    /** Maps of up to {@code maxSize} entries; a repeated key keeps its last value, so generation never loops. */
    private Gen<Map<String, String>> maps(Gen<String> keys, Gen<String> values, int maxSize) {
        Gen<List<Map.Entry<String, String>>> entries = lists().of(keys.zip(values, Map::entry)).ofSizeBetween(0, maxSize);
        return entries.map(list -> {
            Map<String, String> map = new LinkedHashMap<>();
            list.forEach(e -> map.put(e.getKey(), e.getValue()));
            return map;
        });
    }

    private static Gen<Byte> anyByte() {
        return Generate.bytes(Byte.MIN_VALUE, Byte.MAX_VALUE, (byte) 0);
    }

    private static Gen<byte[]> bytes(int minSize, int maxSize) {
        return Generate.byteArrays(Generate.range(minSize, maxSize), anyByte());
    }

    /**
     * Unknown fields as a newer producer would write them: numbers above 100 (not used by the
     * envelope), ascending and distinct, since protobuf keeps unknown fields ordered by number.
     */
    private Gen<byte[]> unknownFields() {
        Gen<Integer> numbers = integers().between(101, 536_870_911);
        Gen<Integer> wireTypes = Generate.pick(List.of(0, 1, 2, 5));
        Gen<Long> values = longs().all();
        Gen<byte[]> blobs = bytes(0, 32);
        Gen<UnknownField> fields = numbers.zip(wireTypes, values, blobs, UnknownField::new);
        return lists().of(fields).ofSizeBetween(1, 6).map(list -> {
            TreeMap<Integer, UnknownField> byNumber = new TreeMap<>();
            list.forEach(f -> byNumber.putIfAbsent(f.number(), f));
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(buf);
            try {
                for (UnknownField f : byNumber.values()) {
                    switch (f.wireType()) {
                        case 0 -> out.writeUInt64(f.number(), f.value());
                        case 1 -> out.writeFixed64(f.number(), f.value());
                        case 2 -> out.writeByteArray(f.number(), f.blob());
                        default -> out.writeFixed32(f.number(), (int) f.value());
                    }
                }
                out.flush();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return buf.toByteArray();
        }).describedAs(Arrays::toString);
    }

    private record UnknownField(int number, int wireType, long value, byte[] blob) {}
}
