package io.eventsync.kafka.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.StringValue;
import com.google.protobuf.UnknownFieldSet;
import io.eventsync.DecodeException;
import io.eventsync.v1.Envelope;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class CloudEventsBindingTest {

    @Test
    void unknownFieldsAndAnUnusualTypeUrlSurviveBinaryMode() throws Exception {
        UnknownFieldSet fromANewerWriter = UnknownFieldSet.newBuilder()
                .addField(99, UnknownFieldSet.Field.newBuilder().addLengthDelimited(ByteString.copyFromUtf8("future")).build())
                .build();
        Envelope sent = Envelope.newBuilder()
                .setId("e-1").setSource("svc").setType("google.protobuf.StringValue").setSubject("k")
                .setSpecversion("1.0").setSequence(3)
                .setPayload(Any.newBuilder().setTypeUrl("example.com/types/google.protobuf.StringValue")
                        .setValue(StringValue.of("v").toByteString()))
                .setUnknownFields(fromANewerWriter)
                .build();

        byte[] received = CloudEventsBinding.envelopeBytes(CloudEventsBinding.binaryHeaders(sent),
                CloudEventsBinding.binaryValue(sent));

        Envelope decoded = Envelope.parseFrom(received);
        assertThat(decoded).isEqualTo(sent);
        assertThat(decoded.getUnknownFields().hasField(99)).isTrue();
    }

    @Test
    void anEnvelopeWithoutSpecversionIsSentAsCloudEventsOnePointZero() throws Exception {
        Envelope sent = Envelope.newBuilder().setId("e-3").setSource("svc").setType("t").build();

        Headers headers = CloudEventsBinding.binaryHeaders(sent);

        assertThat(new String(headers.lastHeader("ce_specversion").value(), StandardCharsets.UTF_8)).isEqualTo("1.0");
        assertThat(Envelope.parseFrom(CloudEventsBinding.envelopeBytes(headers, null)))
                .isEqualTo(sent.toBuilder().setSpecversion("1.0").build());
    }

    @Test
    void anEventWithoutPayloadIsARecordWithoutValue() throws Exception {
        Envelope sent = Envelope.newBuilder().setId("e-2").setSource("svc").setType("t").setSubject("k")
                .setSpecversion("1.0").setTombstone(true).build();

        assertThat(CloudEventsBinding.binaryValue(sent)).isNull();
        Headers headers = CloudEventsBinding.binaryHeaders(sent);
        assertThat(headers.lastHeader(CloudEventsBinding.CONTENT_TYPE)).isNull();
        assertThat(Envelope.parseFrom(CloudEventsBinding.envelopeBytes(headers, null))).isEqualTo(sent);
    }

    @Test
    void aRecordThatIsNoEventIsRefusedNamingWhatIsMissing() {
        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(new RecordHeaders(), new byte[] {1, 2}))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("ce_specversion");
    }

    @Test
    void aMalformedTimeHeaderIsRefusedNamingTheHeaderAndValue() {
        RecordHeaders headers = new RecordHeaders();
        headers.add("ce_specversion", "1.0".getBytes(StandardCharsets.UTF_8));
        headers.add("ce_time", "yesterday".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, null))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("ce_time").hasMessageContaining("yesterday");
    }

    @Test
    void secretPropertyNamesAreRecognised() {
        assertThat(ClientSettings.isSecret("sasl.jaas.config")).isTrue();
        assertThat(ClientSettings.isSecret("ssl.keystore.password")).isTrue();
        assertThat(ClientSettings.isSecret("ssl.keystore.key")).isTrue();
        assertThat(ClientSettings.isSecret("security.protocol")).isFalse();
        assertThat(ClientSettings.describe(java.util.Map.of("ssl.key.password", "p4ss", "linger.ms", "5")))
                .isEqualTo("{linger.ms=5, ssl.key.password=[hidden]}");
    }
}
