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
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class EnvelopeCodecPropertiesTest {
    private static final Duration FINISHES_WITHIN = Duration.ofSeconds(20);
    private final EnvelopeCodec codec = EnvelopeCodec.defaults();

    @Property(tries = 300)
    void everyEnvelopeSurvivesEncodeAndDecode(@ForAll("envelopes") Envelope envelope) {
        assertThat(codec.decode(codec.encode(envelope))).isEqualTo(envelope);
    }

    @Property(tries = 300)
    void unknownFieldsSurviveDecodeAndReencodeByteForByte(@ForAll("envelopes") Envelope envelope,
            @ForAll("unknownFields") byte[] unknown) {
        byte[] bytes = EnvelopeCodecTest.concat(codec.encode(envelope), unknown);

        Envelope decoded = codec.decode(bytes);

        assertThat(decoded.getUnknownFields().asMap()).isNotEmpty();
        assertThat(decoded.toBuilder().setUnknownFields(com.google.protobuf.UnknownFieldSet.getDefaultInstance()).build())
                .isEqualTo(envelope);
        assertThat(codec.encode(decoded)).isEqualTo(bytes);
    }

    @Property(tries = 1000)
    void randomBytesGiveOnlyADecodeError(@ForAll @Size(max = 2000) byte[] bytes) {
        assertOnlyDecodeError(bytes);
    }

    @Property(tries = 500)
    void truncatedEncodingsGiveOnlyADecodeError(@ForAll("envelopes") Envelope envelope,
            @ForAll @IntRange(min = 0, max = 10_000) int cut) {
        byte[] bytes = codec.encode(envelope);
        assertOnlyDecodeError(Arrays.copyOf(bytes, cut % Math.max(1, bytes.length)));
    }

    @Property(tries = 500)
    void corruptedEncodingsGiveOnlyADecodeError(@ForAll("envelopes") Envelope envelope,
            @ForAll @IntRange(min = 0, max = 10_000) int position, @ForAll byte value) {
        byte[] bytes = codec.encode(envelope);
        if (bytes.length > 0) {
            bytes[position % bytes.length] = value;
        }
        assertOnlyDecodeError(bytes);
    }

    @Property(tries = 50)
    void envelopesOverTheLimitAreRejectedNamingTheLimit(@ForAll @IntRange(min = 64, max = 4096) int limit,
            @ForAll @IntRange(min = 1, max = 4096) int excess) {
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

    @Provide
    Arbitrary<Envelope> envelopes() {
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(40);
        Arbitrary<Timestamp> times = Combinators.combine(
                        Arbitraries.longs().between(-62_135_596_800L, 253_402_300_799L),
                        Arbitraries.integers().between(0, 999_999_999))
                .as((s, n) -> Timestamp.newBuilder().setSeconds(s).setNanos(n).build());
        Arbitrary<Map<String, String>> attributes = Arbitraries.maps(text, text).ofMaxSize(5);
        return Builders.withBuilder(Envelope::newBuilder)
                .use(Arbitraries.of(true, false)).in((b, fresh) -> b.setId(fresh ? Events.newId() : ""))
                .use(text).in(Envelope.Builder::setSource)
                .use(text).in(Envelope.Builder::setType)
                .use(text).in(Envelope.Builder::setSubject)
                .use(times).withProbability(0.9).in(Envelope.Builder::setTime)
                .use(Arbitraries.of("1.0", "", "0.3")).in(Envelope.Builder::setSpecversion)
                .use(Arbitraries.longs()).in(Envelope.Builder::setSequence)
                .use(text).in(Envelope.Builder::setPartitionKey)
                .use(text).in(Envelope.Builder::setTraceparent)
                .use(payloads()).withProbability(0.9).in(Envelope.Builder::setPayload)
                .use(attributes).in(Envelope.Builder::putAllAttributes)
                .use(Arbitraries.of(true, false)).in(Envelope.Builder::setTombstone)
                .use(Arbitraries.longs().greaterOrEqual(0)).in(Envelope.Builder::setPosition)
                .build(Envelope.Builder::build);
    }

    private Arbitrary<Any> payloads() {
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(30);
        Arbitrary<LineItem> items = Combinators.combine(text, Arbitraries.integers())
                .as((sku, q) -> LineItem.newBuilder().setSku(sku).setQuantity(q).build());
        Arbitrary<OrderPlaced> orders = Combinators.combine(text, text, Arbitraries.longs(), items.list().ofMaxSize(4),
                        Arbitraries.maps(text, text).ofMaxSize(3))
                .as((id, email, amount, list, labels) -> OrderPlaced.newBuilder().setOrderId(id)
                        .setCustomerEmail(email).setAmountCents(amount).addAllItems(list).putAllLabels(labels).build());
        Arbitrary<OrderCancelled> cancels = Combinators.combine(text, text)
                .as((id, reason) -> OrderCancelled.newBuilder().setOrderId(id).setReason(reason).build());
        Arbitrary<Any> raw = Combinators.combine(text, Arbitraries.bytes().array(byte[].class).ofMaxSize(64))
                .as((url, value) -> Any.newBuilder().setTypeUrl(url).setValue(ByteString.copyFrom(value)).build());
        return Arbitraries.oneOf(orders.map(Any::pack), cancels.map(Any::pack), raw);
    }

    /**
     * Unknown fields as a newer producer would write them: numbers above 100 (not used by the
     * envelope), ascending and distinct, since protobuf keeps unknown fields ordered by number.
     */
    @Provide
    Arbitrary<byte[]> unknownFields() {
        Arbitrary<Integer> numbers = Arbitraries.integers().between(101, 536_870_911);
        Arbitrary<Integer> wireTypes = Arbitraries.of(0, 1, 2, 5);
        Arbitrary<Long> values = Arbitraries.longs();
        Arbitrary<byte[]> blobs = Arbitraries.bytes().array(byte[].class).ofMaxSize(32);
        return Combinators.combine(numbers, wireTypes, values, blobs).as(UnknownField::new).list().ofMinSize(1).ofMaxSize(6)
                .map(fields -> {
                    TreeMap<Integer, UnknownField> byNumber = new TreeMap<>();
                    fields.forEach(f -> byNumber.putIfAbsent(f.number(), f));
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
                });
    }

    private record UnknownField(int number, int wireType, long value, byte[] blob) {}
}
