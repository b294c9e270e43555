package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.DecodeException;
import io.eventsync.test.v1.Node;
import io.eventsync.test.v1.OrderCancelled;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.test.v1.TestEventsProto;
import io.eventsync.v1.Envelope;
import org.junit.jupiter.api.Test;

class TypeRegistryTest {
    private final TypeRegistry registry = TypeRegistry.builder().add(OrderPlaced.getDefaultInstance()).build();

    @Test
    void registeredGeneratedTypeUnpacksToItsClass() {
        Envelope e = TestEvents.orderPlaced();
        Message payload = registry.unpack(e);
        assertThat(payload).isInstanceOf(OrderPlaced.class).isEqualTo(TestEvents.order());
        assertThat(registry.find("eventsync.test.v1.OrderPlaced")).contains(OrderPlaced.getDescriptor());
    }

    @Test
    void unknownTypeIsADecodeErrorNamingTheType() {
        Envelope e = Events.create("src", "s", 1, OrderCancelled.newBuilder().setOrderId("o").build());
        assertThatThrownBy(() -> registry.unpack(e))
                .isInstanceOf(UnknownTypeException.class)
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining("eventsync.test.v1.OrderCancelled")
                .satisfies(t -> assertThat(((UnknownTypeException) t).typeName())
                        .isEqualTo("eventsync.test.v1.OrderCancelled"));
        assertThat(registry.find("eventsync.test.v1.OrderCancelled")).isEmpty();
    }

    @Test
    void payloadBytesThatDoNotParseAreADecodeErrorNamingTypeAndField() {
        Envelope good = TestEvents.orderPlaced();
        Any broken = good.getPayload().toBuilder().setValue(ByteString.copyFrom(new byte[] {0x0A, 0x02, (byte) 0xC3, 0x41}))
                .build(); // field 1 (order_id): two bytes that are not UTF-8
        Envelope e = good.toBuilder().setPayload(broken).build();
        assertThatThrownBy(() -> registry.unpack(e))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("eventsync.test.v1.OrderPlaced")
                .hasMessageContaining("field 1 (order_id): invalid UTF-8");
    }

    @Test
    void payloadNestedDeeperThanTheLimitIsADecodeError() {
        Node deep = Node.newBuilder().setName("leaf").build();
        for (int i = 0; i < 20; i++) {
            deep = Node.newBuilder().setName("n" + i).setChild(deep).build();
        }
        TypeRegistry shallow = TypeRegistry.builder().add(Node.getDefaultInstance()).maxRecursionDepth(5).build();
        Envelope e = Events.create("src", "s", 1, deep);
        assertThatThrownBy(() -> shallow.unpack(e))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("eventsync.test.v1.Node")
                .hasMessageContaining("recursion");
        assertThat(TypeRegistry.builder().add(Node.getDefaultInstance()).build().unpack(e)).isEqualTo(deep);
    }

    @Test
    void typesFromADescriptorSetUnpackAsDynamicMessages() throws Exception {
        // Only the test file: its imports (buf/validate, google/protobuf/timestamp) are built in.
        byte[] set = FileDescriptorSet.newBuilder().addFile(TestEventsProto.getDescriptor().toProto()).build().toByteArray();
        TypeRegistry dynamic = TypeRegistry.builder().addFileDescriptorSet(set).build();

        Message payload = dynamic.unpack(TestEvents.orderPlaced());

        assertThat(payload).isInstanceOf(DynamicMessage.class);
        assertThat(payload.toByteString()).isEqualTo(TestEvents.order().toByteString());
        assertThat(OrderPlaced.parseFrom(payload.toByteString())).isEqualTo(TestEvents.order());
        assertThat(dynamic.find("eventsync.test.v1.LineItem")).isPresent();
    }

    @Test
    void descriptorSetMissingAnImportIsAConfigErrorNamingTheFile() {
        var file = TestEventsProto.getDescriptor().toProto().toBuilder().addDependency("shop/missing.proto").build();
        byte[] set = FileDescriptorSet.newBuilder().addFile(file).build().toByteArray();
        assertThatThrownBy(() -> TypeRegistry.builder().addFileDescriptorSet(set))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("shop/missing.proto");
    }

    @Test
    void bytesThatAreNotADescriptorSetAreAConfigError() {
        assertThatThrownBy(() -> TypeRegistry.builder().addFileDescriptorSet(new byte[] {(byte) 0xFF, 0x01}))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("FileDescriptorSet");
    }

    @Test
    void envelopeWithoutPayloadIsADecodeError() {
        Envelope e = TestEvents.orderPlaced().toBuilder().clearPayload().build();
        assertThatThrownBy(() -> registry.unpack(e))
                .isExactlyInstanceOf(DecodeException.class)
                .hasMessageContaining("no payload");
    }
}
