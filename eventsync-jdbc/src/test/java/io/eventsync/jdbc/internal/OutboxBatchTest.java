package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UnknownFieldSet;
import io.eventsync.jdbc.TestEvents;
import io.eventsync.v1.Envelope;
import java.util.List;
import org.junit.jupiter.api.Test;

class OutboxBatchTest {

    @Test
    void positionIsStampedWithoutTouchingTheStoredBytes() throws Exception {
        Envelope original = TestEvents.event("shop", "o1", 3).toBuilder()
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(999, UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build())
                .build();
        byte[] stored = original.toByteArray();
        for (long id : new long[] {1, 127, 128, 300, Long.MAX_VALUE}) {
            var event = OutboxBatch.stamp(id, "o1", stored);
            Envelope decoded = Envelope.parseFrom(event.bytes());
            assertThat(decoded.getPosition()).isEqualTo(id);
            assertThat(decoded.toBuilder().clearPosition().build()).isEqualTo(original);
            assertThat(decoded.getUnknownFields().hasField(999)).isTrue();
            assertThat(event.envelope().getPosition()).isEqualTo(id);
        }
    }

    @Test
    void undecodableRowStillLeavesWithItsPosition() {
        var event = OutboxBatch.stamp(7, "o1", new byte[] {(byte) 0xff, (byte) 0xff});
        assertThat(event.envelope().getSubject()).isEqualTo("o1");
        assertThat(event.envelope().getPosition()).isEqualTo(7);
    }

    @Test
    void eventsOfASubjectLeaveInSequenceOrderWithinABatchAndOtherSubjectsKeepTheirSlots() {
        List<OutboxBatch.Row> read = List.of(row(1, "a", 2), row(2, "b", 1), row(3, "a", 1), row(4, "c", 1), row(5, "a", 3));
        List<OutboxBatch.Row> ordered = OutboxBatch.perSubjectBySequence(read);
        assertThat(ordered).extracting(OutboxBatch.Row::id).containsExactly(3L, 2L, 1L, 4L, 5L);
    }

    private static OutboxBatch.Row row(long id, String subject, long sequence) {
        Envelope e = TestEvents.event("shop", subject, sequence);
        return new OutboxBatch.Row(id, subject, sequence, new io.eventsync.transport.OutboundEvent(e, e.toByteArray()));
    }
}
