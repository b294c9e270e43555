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
    void theTraceContextTravelsAsTheDistributedTracingExtensionInBinaryMode() throws Exception {
        Envelope sent = Envelope.newBuilder()
                .setId("e-1").setSource("svc").setType("google.protobuf.StringValue").setSubject("k")
                .setSpecversion("1.0").setSequence(3)
                .setTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .setTracestate("vendor=v1,other=o2")
                .putAttributes("tracestatex", "a free-form attribute, not the field")
                .setPayload(Any.pack(StringValue.of("v")))
                .build();

        Headers headers = CloudEventsBinding.binaryHeaders(sent);

        assertThat(new String(headers.lastHeader("ce_traceparent").value(), StandardCharsets.UTF_8))
                .isEqualTo(sent.getTraceparent());
        assertThat(new String(headers.lastHeader("ce_tracestate").value(), StandardCharsets.UTF_8))
                .isEqualTo("vendor=v1,other=o2");
        assertThat(Envelope.parseFrom(CloudEventsBinding.envelopeBytes(headers, CloudEventsBinding.binaryValue(sent))))
                .isEqualTo(sent);
    }

    @Test
    void anEnvelopeWithoutSpecversionIsSentAsCloudEventsOnePointZero() throws Exception {
        Envelope sent = Envelope.newBuilder().setId("e-3").setSource("svc").setType("google.protobuf.StringValue")
                .setPayload(Any.pack(StringValue.of("v"))).build();

        Headers headers = CloudEventsBinding.binaryHeaders(sent);

        assertThat(new String(headers.lastHeader("ce_specversion").value(), StandardCharsets.UTF_8)).isEqualTo("1.0");
        assertThat(Envelope.parseFrom(CloudEventsBinding.envelopeBytes(headers, CloudEventsBinding.binaryValue(sent))))
                .isEqualTo(sent.toBuilder().setSpecversion("1.0").build());
    }

    @Test
    void aPayloadWhoseFieldsAreAllDefaultIsAnEmptyValueAndStillAnEvent() throws Exception {
        Envelope sent = Envelope.newBuilder().setId("e-4").setSource("svc").setType("google.protobuf.StringValue")
                .setSpecversion("1.0").setSubject("k").setPayload(Any.pack(StringValue.of(""))).build();

        byte[] value = CloudEventsBinding.binaryValue(sent);

        assertThat(value).isEmpty();
        assertThat(Envelope.parseFrom(CloudEventsBinding.envelopeBytes(CloudEventsBinding.binaryHeaders(sent), value)))
                .isEqualTo(sent);
    }

    @Test
    void aBinaryRecordWithoutValueIsRefusedNotReadAsAnEventWithoutPayload() {
        Envelope sent = Envelope.newBuilder().setId("e-2").setSource("svc").setType("t").setSubject("k")
                .setSpecversion("1.0").setTombstone(true).build();

        assertThat(CloudEventsBinding.binaryValue(sent)).isNull();
        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(CloudEventsBinding.binaryHeaders(sent), null))
                .isInstanceOf(DecodeException.class)
                .hasMessage("the record value is null: in binary mode it is the event's payload, which every"
                        + " eventsync event has");
    }

    @Test
    void aRecordWithoutHeadersIsRefusedNamingBothModes() {
        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(new RecordHeaders(), new byte[] {1, 2}))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("ce_ headers").hasMessageContaining(CloudEventsBinding.ENVELOPE_CONTENT_TYPE)
                .hasMessageContaining("content-type is missing").hasMessageContaining("has 2 bytes");
    }

    @Test
    void aMalformedTimeHeaderIsRefusedNamingTheHeaderAndValue() {
        Headers headers = validHeaders();
        headers.remove("ce_time");
        headers.add("ce_time", utf8("2024-01-01 10:00:00"));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("header ce_time is not an RFC 3339 timestamp: '2024-01-01 10:00:00'");
    }

    @Test
    void aMalformedSequenceHeaderIsRefusedNamingTheHeaderAndValue() {
        Headers headers = validHeaders();
        headers.remove("ce_sequence");
        headers.add("ce_sequence", utf8("seven"));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("header ce_sequence is not an integer: 'seven'");
    }

    @Test
    void everyMissingRequiredAttributeIsNamed() {
        Headers headers = validHeaders();
        headers.remove("ce_id");
        headers.remove("ce_type");

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("missing required headers ce_id, ce_type");
    }

    @Test
    void aRecordWithCloudEventsHeadersButNoSpecversionIsRefusedNamingIt() {
        Headers headers = validHeaders();
        headers.remove("ce_specversion");

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("missing required header ce_specversion");
    }

    @Test
    void anotherSpecversionIsRefusedNamingIt() {
        Headers headers = validHeaders();
        headers.remove("ce_specversion");
        headers.add("ce_specversion", utf8("0.3"));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("header ce_specversion is '0.3', but eventsync reads CloudEvents 1.0 only");
    }

    @Test
    void repeatedEmptyAndNonUtf8HeadersAreEachNamedWithEscapedValues() {
        Headers headers = validHeaders();
        headers.add("ce_subject", utf8("other-key"));
        headers.remove("ce_source");
        headers.add("ce_source", new byte[0]);
        headers.add("ce_traceparent", new byte[] {'a', (byte) 0xff, '\n', 0});

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("header ce_subject appears more than once")
                .hasMessageContaining("header ce_source is empty")
                .hasMessageContaining("header ce_traceparent is not valid UTF-8: 'a\\xff\\n\\u0000'");
    }

    @Test
    void aJsonPayloadInBinaryModeIsRefusedNamingTheContentType() {
        Headers headers = validHeaders();
        headers.remove("content-type");
        headers.add("content-type", utf8("application/json"));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, utf8("{\"a\":1}")))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("header content-type is 'application/json'")
                .hasMessageContaining("application/protobuf");
    }

    @Test
    void anEmptyValueWithoutProtobufContentTypeIsRefused() {
        Headers headers = validHeaders();
        headers.remove("content-type");

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, new byte[0]))
                .isInstanceOf(DecodeException.class)
                .hasMessageStartingWith("the record value is empty");
    }

    @Test
    void aStructuredRecordWithoutValueIsRefused() {
        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(CloudEventsBinding.structuredHeaders(), null))
                .isInstanceOf(DecodeException.class)
                .hasMessageStartingWith("the record value is null, but its content-type");
        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(CloudEventsBinding.structuredHeaders(), new byte[0]))
                .isInstanceOf(DecodeException.class)
                .hasMessageStartingWith("the record value is empty, but its content-type");
    }

    @Test
    void aLongBadValueIsQuotedCutAndTheLengthNoted() {
        Headers headers = validHeaders();
        headers.remove("ce_time");
        headers.add("ce_time", utf8("x".repeat(5_000)));

        assertThatThrownBy(() -> CloudEventsBinding.envelopeBytes(headers, PAYLOAD))
                .isInstanceOf(DecodeException.class)
                .hasMessage("header ce_time is not an RFC 3339 timestamp: '" + "x".repeat(200) + "' (cut, 5000 bytes)");
    }

    private static final byte[] PAYLOAD = StringValue.of("v").toByteArray();

    /** The headers of a well-formed event whose value is {@link #PAYLOAD}. */
    private static Headers validHeaders() {
        Envelope event = Envelope.newBuilder().setId("0190a0b0-0000-7000-8000-000000000001").setSource("svc")
                .setType("google.protobuf.StringValue").setSubject("acct-1").setSpecversion("1.0").setSequence(3)
                .setTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(1_764_000_000L))
                .setPayload(Any.pack(StringValue.of("v"))).build();
        Headers headers = CloudEventsBinding.binaryHeaders(event);
        assertThat(CloudEventsBinding.binaryValue(event)).isEqualTo(PAYLOAD);
        return headers;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
