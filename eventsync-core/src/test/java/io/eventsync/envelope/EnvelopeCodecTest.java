package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import io.eventsync.ConfigException;
import io.eventsync.DecodeException;
import io.eventsync.PermanentException;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.v1.Envelope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EnvelopeCodecTest {
    private final EnvelopeCodec codec = EnvelopeCodec.defaults();

    @Test
    void encodedEnvelopeDecodesToAnEqualEnvelope() {
        Envelope e = TestEvents.orderPlaced();
        assertThat(codec.decode(codec.encode(e))).isEqualTo(e);
    }

    @Test
    void unknownFieldsSurviveDecodeAndReencode() throws IOException {
        byte[] known = codec.encode(TestEvents.orderPlaced());
        ByteArrayOutputStream extra = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(extra);
        out.writeUInt64(150, 42);
        out.writeString(151, "from a newer producer");
        out.flush();
        byte[] withUnknown = concat(known, extra.toByteArray());

        Envelope decoded = codec.decode(withUnknown);

        assertThat(decoded.getUnknownFields().hasField(150)).isTrue();
        assertThat(decoded.getUnknownFields().getField(151).getLengthDelimitedList())
                .containsExactly(ByteString.copyFromUtf8("from a newer producer"));
        assertThat(codec.encode(decoded)).isEqualTo(withUnknown);
    }

    @Test
    void decodingMoreBytesThanTheLimitNamesSizeAndLimit() {
        byte[] big = new byte[EnvelopeCodec.DEFAULT_MAX_BYTES + 1];
        assertThatThrownBy(() -> codec.decode(big))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("1048577 bytes")
                .hasMessageContaining("1048576-byte limit");
    }

    @Test
    void encodingAnEnvelopeOverTheLimitNamesSizeAndLimit() {
        EnvelopeCodec small = EnvelopeCodec.custom().maxBytes(200).build();
        Envelope e = Events.create("src", "order-1", 1,
                OrderCancelled.newBuilder().setOrderId("o").setReason("x".repeat(300)).build());
        int size = e.getSerializedSize();
        assertThatThrownBy(() -> small.encode(e))
                .isInstanceOf(PermanentException.class)
                .hasMessageContaining(size + " bytes")
                .hasMessageContaining("200-byte limit");
        assertThatThrownBy(() -> small.decode(e.toByteArray()))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("200-byte limit");
    }

    @Test
    void invalidUtf8InTheSubjectNamesTheField() {
        byte[] bytes = Envelope.newBuilder().setId("x").setSubject("AB").build().toByteArray();
        int subject = indexOf(bytes, new byte[] {'A', 'B'});
        bytes[subject] = (byte) 0xC3; // a lead byte followed by ASCII: not UTF-8
        byte[] broken = bytes;
        assertThatThrownBy(() -> codec.decode(broken))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("field 4 (subject): invalid UTF-8");
    }

    @Test
    void truncatedEnvelopeIsReportedAsTruncatedInItsField() {
        byte[] bytes = codec.encode(TestEvents.orderPlaced());
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 3); // inside the payload, the last field
        assertThatThrownBy(() -> codec.decode(cut))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("field 10 (payload)")
                .hasMessageContaining("truncated message");
    }

    @Test
    void unknownGroupsNestedBeyondTheRecursionLimitAreRejected() throws IOException {
        EnvelopeCodec shallow = EnvelopeCodec.custom().maxRecursionDepth(10).build();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(buf);
        for (int i = 0; i < 50; i++) {
            out.writeTag(200, 3); // start group
        }
        for (int i = 0; i < 50; i++) {
            out.writeTag(200, 4); // end group
        }
        out.flush();
        assertThatThrownBy(() -> shallow.decode(buf.toByteArray()))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("recursion");
    }

    @Test
    void unknownGroupsWithinTheLimitAreKept() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(buf);
        out.writeTag(200, 3);
        out.writeUInt64(1, 7);
        out.writeTag(200, 4);
        out.flush();
        Envelope decoded = codec.decode(buf.toByteArray());
        UnknownFieldSet.Field group = decoded.getUnknownFields().getField(200);
        assertThat(group.getGroupList()).hasSize(1);
        assertThat(codec.encode(decoded)).isEqualTo(buf.toByteArray());
    }

    @Test
    void builderRejectsLimitsThatCannotWorkNamingFieldAndValue() {
        assertThatThrownBy(() -> EnvelopeCodec.custom().maxBytes(0).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("maxBytes")
                .hasMessageContaining("0");
        assertThatThrownBy(() -> EnvelopeCodec.custom().maxRecursionDepth(-3).build())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("maxRecursionDepth")
                .hasMessageContaining("-3");
    }

    @Test
    void nullBytesAreADecodeError() {
        assertThatThrownBy(() -> codec.decode(null)).isExactlyInstanceOf(DecodeException.class);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
