package io.eventsync.kafka.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import org.junit.jupiter.api.Test;

class ClusterIdTest {

    /** One id in 64 started with '-' before, and kafka-storage then refused to format the broker's log dir. */
    @Test
    void clusterIdsAreKafkaUuidsThatNeverStartWithADash() {
        for (int i = 0; i < 10_000; i++) {
            String id = LocalKafka.randomClusterId();
            assertThat(id).doesNotStartWith("-").hasSize(22);
            assertThat(Base64.getUrlDecoder().decode(id)).hasSize(16);
        }
    }
}
