package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.eventsync.ConfigException;
import io.eventsync.ValidationException;
import io.eventsync.Violation;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.test.v1.TestEventsProto;
import io.eventsync.v1.Envelope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class EnvelopeValidatorTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private final EnvelopeValidator validator = EnvelopeValidator.custom()
            .clock(Clock.fixed(NOW, ZoneOffset.UTC)).build();

    @Test
    void validEventPasses() {
        Envelope e = at(TestEvents.orderPlaced(), NOW);
        assertThatCode(() -> validator.validate(e, TestEvents.order())).doesNotThrowAnyException();
        assertThatCode(() -> EnvelopeValidator.defaults().validate(TestEvents.orderPlaced(), TestEvents.order()))
                .doesNotThrowAnyException();
    }

    @Test
    void everyBrokenEnvelopeRuleIsReportedWithFieldAndRule() {
        Envelope e = Envelope.newBuilder()
                .setId("not-a-uuid")
                .setType("eventsync.test.v1.Other")
                .setSpecversion("0.3")
                .setSequence(0)
                .setPayload(Any.pack(TestEvents.order()))
                .build();

        List<Violation> violations = violations(e, null);

        assertThat(violations).extracting(Violation::field, Violation::rule).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("id", "string.uuid"),
                org.assertj.core.groups.Tuple.tuple("source", "required"),
                org.assertj.core.groups.Tuple.tuple("subject", "required"),
                org.assertj.core.groups.Tuple.tuple("type", "type.matches_payload"),
                org.assertj.core.groups.Tuple.tuple("specversion", "string.const"),
                org.assertj.core.groups.Tuple.tuple("sequence", "int64.gte"),
                org.assertj.core.groups.Tuple.tuple("time", "required"));
    }

    @Test
    void missingIdTypeAndPayloadAreRequired() {
        Envelope e = at(TestEvents.orderPlaced(), NOW).toBuilder().clearId().clearType().clearPayload().build();
        assertThat(violations(e, null)).extracting(Violation::field, Violation::rule).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("id", "required"),
                org.assertj.core.groups.Tuple.tuple("type", "required"),
                org.assertj.core.groups.Tuple.tuple("payload", "required"));
    }

    @Test
    void timeBefore2000OrBeyondTheClockSkewIsRejected() {
        assertThat(violations(at(TestEvents.orderPlaced(), Instant.parse("1970-01-01T00:00:01Z")), null))
                .extracting(Violation::field, Violation::rule)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("time", "timestamp.gte"));
        assertThat(violations(at(TestEvents.orderPlaced(), NOW.plus(Duration.ofHours(2))), null))
                .extracting(Violation::field, Violation::rule)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("time", "timestamp.lte_now_plus_skew"));
        EnvelopeValidator lenient = EnvelopeValidator.custom().clock(Clock.fixed(NOW, ZoneOffset.UTC))
                .maxClockSkew(Duration.ofHours(3)).build();
        assertThatCode(() -> lenient.validate(at(TestEvents.orderPlaced(), NOW.plus(Duration.ofHours(2))), null))
                .doesNotThrowAnyException();
    }

    @Test
    void everyPayloadConstraintViolationIsReportedWithItsPathAndRule() {
        OrderPlaced bad = OrderPlaced.newBuilder()
                .setOrderId("o-1")
                .setCustomerEmail("not an email")
                .setAmountCents(0)
                .setCurrency("EURO")
                .addItems(LineItem.newBuilder().setSku("sku-1").setQuantity(1))
                .addItems(LineItem.newBuilder().setQuantity(0))
                .build();
        Envelope e = at(Events.create("shop", "order-1", 1, bad), NOW);

        List<Violation> violations = violations(e, bad);

        assertThat(violations).extracting(Violation::field, Violation::rule).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("payload.customer_email", "string.email"),
                org.assertj.core.groups.Tuple.tuple("payload.amount_cents", "int64.gt"),
                org.assertj.core.groups.Tuple.tuple("payload.currency", "string.len"),
                org.assertj.core.groups.Tuple.tuple("payload.items[1].sku", "required"),
                org.assertj.core.groups.Tuple.tuple("payload.items[1].quantity", "int32.gte"));
        assertThat(violations).allSatisfy(v -> assertThat(v.message()).isNotBlank());
    }

    @Test
    void envelopeAndPayloadViolationsAreReportedTogether() {
        OrderCancelled bad = OrderCancelled.newBuilder().build();
        Envelope e = at(Events.create("shop", "", 0, bad), NOW);
        ValidationException ex = catchThrowableOfType(ValidationException.class, () -> validator.validate(e, bad));
        assertThat(ex.violations()).extracting(Violation::field).containsExactlyInAnyOrder(
                "subject", "sequence", "payload.order_id");
        assertThat(ex).hasMessageContaining("payload.order_id").hasMessageContaining("string.min_len")
                .hasMessageContaining("sequence").hasMessageContaining("int64.gte");
    }

    @Test
    void dynamicPayloadsFromADescriptorSetAreCheckedByTheirRules() {
        byte[] set = FileDescriptorSet.newBuilder().addFile(TestEventsProto.getDescriptor().toProto()).build().toByteArray();
        TypeRegistry dynamic = TypeRegistry.builder().addFileDescriptorSet(set).build();
        OrderPlaced bad = TestEvents.order().toBuilder().setAmountCents(-5).build();
        Envelope e = at(Events.create("shop", "order-1", 1, bad), NOW);
        Message payload = dynamic.unpack(e);

        assertThat(violations(e, payload)).extracting(Violation::field, Violation::rule)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("payload.amount_cents", "int64.gt"));
    }

    @Test
    void oversizedEnvelopeIsRejectedNamingTheLimit() {
        EnvelopeValidator small = EnvelopeValidator.custom().clock(Clock.fixed(NOW, ZoneOffset.UTC)).maxBytes(100).build();
        Envelope e = at(TestEvents.orderPlaced(), NOW);
        assertThat(violations(small, e, null)).singleElement().satisfies(v -> {
            assertThat(v.rule()).isEqualTo("envelope.max_bytes");
            assertThat(v.message()).contains("100-byte limit");
        });
    }

    @Test
    void builderRejectsANegativeClockSkewNamingIt() {
        assertThat(catchThrowableOfType(ConfigException.class,
                () -> EnvelopeValidator.custom().maxClockSkew(Duration.ofSeconds(-1)).build()))
                .hasMessageContaining("maxClockSkew").hasMessageContaining("PT-1S");
    }

    private List<Violation> violations(Envelope e, Message payload) {
        return violations(validator, e, payload);
    }

    private static List<Violation> violations(EnvelopeValidator v, Envelope e, Message payload) {
        ValidationException ex = catchThrowableOfType(ValidationException.class, () -> v.validate(e, payload));
        assertThat(ex).as("expected a ValidationException").isNotNull();
        return ex.violations();
    }

    private static Envelope at(Envelope e, Instant time) {
        return e.toBuilder().setTime(Timestamp.newBuilder().setSeconds(time.getEpochSecond()).setNanos(time.getNano()))
                .build();
    }
}
