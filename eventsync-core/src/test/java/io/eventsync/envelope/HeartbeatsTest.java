package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.eventsync.v1.Envelope;
import io.eventsync.v1.Heartbeat;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class HeartbeatsTest {
    private static final Instant TIME = Instant.parse("2026-12-02T10:15:30.123456Z");

    @Test
    void aHeartbeatIsAnOrdinaryEnvelopeThatSurvivesTheCodec() {
        Envelope envelope = Heartbeats.create("orders", TIME, 42);

        Envelope decoded = EnvelopeCodec.defaults().decode(EnvelopeCodec.defaults().encode(envelope));

        assertThat(Heartbeats.isHeartbeat(decoded)).isTrue();
        assertThat(decoded.getType()).isEqualTo("eventsync.v1.Heartbeat");
        assertThat(decoded.getSource()).isEqualTo("orders");
        assertThat(decoded.getPartitionKey()).isEqualTo(decoded.getSubject()).isNotEmpty();
        assertThat(decoded.getId()).isNotEmpty();
        Heartbeat heartbeat = Heartbeats.read(decoded).orElseThrow();
        assertThat(heartbeat.getSource()).isEqualTo("orders");
        assertThat(heartbeat.getPosition()).isEqualTo(42);
        assertThat(Heartbeats.sourceTime(heartbeat)).isEqualTo(TIME);
    }

    @Test
    void anOrdinaryEventIsNotAHeartbeat() {
        Envelope event = Events.create("orders", "o-1", 1, StringValue.of("x"));

        assertThat(Heartbeats.isHeartbeat(event)).isFalse();
        assertThat(Heartbeats.read(event)).isEmpty();
    }

    @Test
    void aHeartbeatWhosePayloadIsNotOneReadsAsEmpty() {
        Envelope wrongPayload = Heartbeats.create("orders", TIME, 1).toBuilder()
                .setPayload(Any.pack(StringValue.of("not a heartbeat"))).build();
        Envelope noTime = Heartbeats.create("orders", TIME, 1).toBuilder()
                .setPayload(Any.pack(Heartbeat.newBuilder().setSource("orders").build())).build();

        assertThat(Heartbeats.isHeartbeat(wrongPayload)).isTrue();
        assertThat(Heartbeats.read(wrongPayload)).isEmpty();
        assertThat(Heartbeats.read(noTime)).isEmpty();
    }
}
