package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UnknownFieldSet;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.jdbc.TestEvents;
import io.eventsync.v1.Envelope;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboxBatchTest {
    private static final int LIMIT = 1 << 20;
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();

    @Test
    void positionIsStampedWithoutTouchingTheStoredBytes() throws Exception {
        Envelope original = TestEvents.event("shop", "o1", 3).toBuilder()
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(999, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build())
                .build();
        byte[] stored = original.toByteArray();
        for (long id : new long[] {1, 127, 128, 300, Long.MAX_VALUE}) {
            OutboxBatch.Row row = check(id, "o1", stored);
            assertThat(row.refused()).isFalse();
            Envelope decoded = Envelope.parseFrom(row.event().bytes());
            assertThat(decoded.getPosition()).isEqualTo(id);
            assertThat(decoded.toBuilder().clearPosition().build()).isEqualTo(original);
            assertThat(decoded.getUnknownFields().hasField(999)).isTrue();
            assertThat(row.event().envelope()).isEqualTo(decoded);
            assertThat(row.event().bytes()).hasSize(stored.length + OutboxBatch.stampBytes(id));
        }
    }

    /**
     * A row cut short by exactly the stamp's length: appended to it, the stamp would complete the
     * cut-off payload and the row would decode into something else. It is refused as it is.
     */
    @Test
    void truncatedRowIsRefusedAsUndecodableBeforeItIsStamped() throws Exception {
        byte[] whole = TestEvents.event("shop", "o1", 1).toByteArray();
        long id = 7;
        byte[] truncated = Arrays.copyOf(whole, whole.length - OutboxBatch.stampBytes(id));
        Envelope.parseFrom(OutboxBatch.appendVarintField(truncated, 13, id)); // what the old stamp-then-parse accepted

        OutboxBatch.Row row = check(id, "o1", truncated);
        assertThat(row.refused()).isTrue();
        assertThat(row.event()).isNull();
        assertThat(row.refusal()).startsWith("undecodable: outbox row 7 (event e-7, key o1)");
    }

    @Test
    void rowOverTheTransportsLimitWithItsStampIsRefusedAsOversize() {
        byte[] stored = TestEvents.event("shop", "o1", 1).toByteArray();
        int limit = stored.length + OutboxBatch.stampBytes(9);
        assertThat(OutboxBatch.check(9, "o1", "e-9", "t", stored, limit, CODEC).refused()).isFalse();
        OutboxBatch.Row row = OutboxBatch.check(9, "o1", "e-9", "t", stored, limit - 1, CODEC);
        assertThat(row.refusal()).startsWith("oversize: event e-9 (key o1, position 9) is " + stored.length + " bytes")
                .contains("limit of " + (limit - 1) + " bytes");
    }

    @Test
    void rowWhoseColumnNamesAnotherKeyThanItsEnvelopeIsRefused() {
        Envelope e = TestEvents.event("shop", "order-1", 1).toBuilder().setPartitionKey("customer-7").build();
        assertThat(check(3, "customer-7", e.toByteArray()).refused()).isFalse();
        assertThat(check(3, "order-1", e.toByteArray()).refusal()).startsWith("key_mismatch: outbox row 3")
                .contains("'order-1'").contains("'customer-7'");
    }

    /** Subjects that share a key keep id order; only within one subject does the sequence reorder. */
    @Test
    void idOrderWithinAKeyWithSequenceOrderWithinASubject() {
        List<OutboxBatch.Row> read = List.of(
                row(1, "customer-7", "customer-7", 12),
                row(2, "customer-7", "order-1", 1),
                row(3, "k", "s", 2),
                row(4, "k", "t", 1),
                row(5, "k", "s", 1),
                row(6, "other", "other", 1));
        assertThat(OutboxBatch.perSubjectBySequence(read)).extracting(OutboxBatch.Row::id)
                .containsExactly(1L, 2L, 5L, 4L, 3L, 6L);
    }

    @Test
    void textForTheDatabaseHasNoNulNoLoneSurrogateAndABoundedLength() {
        assertThat(DbText.sanitize("a\u0000b\uD800c", 100)).isEqualTo("a\uFFFDb\uFFFDc");
        assertThat(DbText.sanitize("ok \uD83D\uDE00", 100)).isEqualTo("ok \uD83D\uDE00");
        assertThat(DbText.sanitize("x".repeat(50), 10)).isEqualTo("xxxxxxx...");
        // never cut between the halves of a pair
        assertThat(DbText.sanitize("xxxxxx\uD83D\uDE00yyyy", 10)).isEqualTo("xxxxxx...");
        assertThat(DbText.sanitize(null, 10)).isEmpty();
    }

    private static OutboxBatch.Row check(long id, String key, byte[] stored) {
        return OutboxBatch.check(id, key, "e-" + id, "google.protobuf.StringValue", stored, LIMIT, CODEC);
    }

    private static OutboxBatch.Row row(long id, String key, String subject, long sequence) {
        Envelope e = TestEvents.event("shop", subject, sequence).toBuilder().setPartitionKey(key).build();
        return check(id, key, e.toByteArray());
    }
}
