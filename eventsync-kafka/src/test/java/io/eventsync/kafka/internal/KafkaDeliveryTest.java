package io.eventsync.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class KafkaDeliveryTest {
    private final PartitionProgress progress = new PartitionProgress(new TopicPartition("orders", 3));

    @Test
    void aWellFormedRecordNamesTopicPartitionAndOffsetAndCarriesItsKey() {
        KafkaDelivery delivery = new KafkaDelivery(progress, 17, new byte[] {1}, "acct-7", null, null);

        assertThat(delivery.origin()).isEqualTo("kafka topic orders partition 3 offset 17");
        assertThat(delivery.transportKey()).isEqualTo("acct-7");
        assertThat(delivery.defect()).isNull();
    }

    @Test
    void aRecordWithoutKeyHasAnEmptyTransportKey() {
        assertThat(new KafkaDelivery(progress, 1, new byte[0], null, "the record value is null", new RecordHeaders())
                .transportKey()).isEmpty();
    }

    @Test
    void aDefectiveRecordShowsItsKeyAndHeadersEscaped() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_time", "2024-01-01 10:00:00".getBytes(StandardCharsets.UTF_8));
        headers.add("ce_subject", "line\nbreak 'quoted'".getBytes(StandardCharsets.UTF_8));
        headers.add("binary", new byte[] {(byte) 0xc3, 0x28});
        headers.add("none", null);

        KafkaDelivery delivery = new KafkaDelivery(progress, 42, new byte[0], "acct-7", "bad", headers);

        assertThat(delivery.defect()).isEqualTo("bad");
        assertThat(delivery.origin()).isEqualTo("kafka topic orders partition 3 offset 42 key 'acct-7' headers"
                + " {ce_time='2024-01-01 10:00:00', ce_subject='line\\nbreak \\'quoted\\'', binary='\\xc3(', none=null}");
    }

    @Test
    void theHeadersInAnOriginAreBounded() {
        RecordHeaders headers = new RecordHeaders();
        for (int i = 0; i < 500; i++) {
            headers.add("h" + i, "v".repeat(100).getBytes(StandardCharsets.UTF_8));
        }

        String origin = new KafkaDelivery(progress, 1, new byte[0], null, "bad", headers).origin();

        assertThat(origin.length()).isLessThan(KafkaDelivery.MAX_ORIGIN_HEADER_CHARS + 200);
        assertThat(origin).contains("h0='v").endsWith(" more headers)}").contains(" key null ");
    }
}
