package io.eventsync.envelope;

import com.google.protobuf.Any;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.ExtensionRegistry;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.DecodeException;
import io.eventsync.envelope.internal.DescriptorSets;
import io.eventsync.envelope.internal.WireDiagnosis;
import io.eventsync.v1.Envelope;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The payload types a service knows: generated classes ({@link Builder#add(Message)}) and types
 * loaded from a descriptor set ({@link Builder#addFileDescriptorSet}), which unpack as DynamicMessage.
 * Immutable once built; thread-safe.
 */
public final class TypeRegistry {
    private final Map<String, Message> generated;
    private final Map<String, Descriptor> descriptors;
    private final int maxRecursionDepth;

    private TypeRegistry(Builder b) {
        this.generated = Map.copyOf(b.generated);
        this.descriptors = Map.copyOf(b.descriptors);
        this.maxRecursionDepth = b.maxRecursionDepth;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The descriptor of a registered type, by full name (e.g. {@code shop.orders.v1.OrderPlaced}). */
    public Optional<Descriptor> find(String fullName) {
        Message instance = generated.get(fullName);
        return instance != null ? Optional.of(instance.getDescriptorForType()) : Optional.ofNullable(descriptors.get(fullName));
    }

    /** The same types as a protobuf {@link com.google.protobuf.TypeRegistry}, e.g. for JSON printing of Any. */
    public com.google.protobuf.TypeRegistry protobufTypeRegistry() {
        com.google.protobuf.TypeRegistry.Builder b = com.google.protobuf.TypeRegistry.newBuilder();
        generated.values().forEach(m -> b.add(m.getDescriptorForType()));
        b.add(descriptors.values());
        return b.build();
    }

    /** The full type name an Any carries: its type URL after the last '/'. */
    public static String typeName(Any any) {
        String url = any.getTypeUrl();
        return url.substring(url.lastIndexOf('/') + 1);
    }

    /**
     * Unpacks the envelope's payload to its registered type: the generated class when one was added,
     * otherwise a DynamicMessage. Throws {@link UnknownTypeException} when the type is not registered
     * and {@link DecodeException} naming the type when its bytes do not parse.
     */
    public Message unpack(Envelope envelope) throws DecodeException {
        if (!envelope.hasPayload()) {
            throw new DecodeException("event " + envelope.getId() + " (subject " + envelope.getSubject()
                    + ") has no payload");
        }
        Any any = envelope.getPayload();
        String type = typeName(any);
        Message instance = generated.get(type);
        Descriptor descriptor = instance != null ? instance.getDescriptorForType() : descriptors.get(type);
        if (descriptor == null) {
            throw new UnknownTypeException(type, "unknown payload type '" + type + "' (type URL '"
                    + any.getTypeUrl() + "') of event " + envelope.getId()
                    + ": add the type to the TypeRegistry");
        }
        try {
            CodedInputStream in = any.getValue().newCodedInput();
            in.setRecursionLimit(maxRecursionDepth);
            if (instance != null) {
                return instance.getParserForType().parseFrom(in);
            }
            return DynamicMessage.newBuilder(descriptor).mergeFrom(in, ExtensionRegistry.getEmptyRegistry()).build();
        } catch (IOException e) {
            String problem = WireDiagnosis.firstProblem(any.getValue(), descriptor, maxRecursionDepth);
            String fallback = WireDiagnosis.describe(e);
            throw new DecodeException("cannot decode payload of type '" + type + "' of event " + envelope.getId()
                    + ": " + (problem != null ? problem : fallback), e);
        } catch (RuntimeException | StackOverflowError e) {
            throw new DecodeException("cannot decode payload of type '" + type + "' of event " + envelope.getId()
                    + ": " + e, e);
        }
    }

    public static final class Builder {
        private final Map<String, Message> generated = new LinkedHashMap<>();
        private final Map<String, Descriptor> descriptors = new LinkedHashMap<>();
        private int maxRecursionDepth = EnvelopeCodec.DEFAULT_MAX_RECURSION_DEPTH;

        public Builder() {}

        /** Adds a generated message type; pass its default instance, e.g. {@code OrderPlaced.getDefaultInstance()}. */
        public Builder add(Message defaultInstance) {
            if (defaultInstance == null) {
                throw new ConfigException("add(Message): defaultInstance must not be null");
            }
            if (defaultInstance instanceof DynamicMessage) {
                return add(defaultInstance.getDescriptorForType());
            }
            Message instance = defaultInstance.getDefaultInstanceForType();
            generated.put(instance.getDescriptorForType().getFullName(), instance);
            return this;
        }

        /** Adds a type known only by descriptor; it unpacks as DynamicMessage. Nested types are added too. */
        public Builder add(Descriptor descriptor) {
            if (descriptor == null) {
                throw new ConfigException("add(Descriptor): descriptor must not be null");
            }
            descriptors.putIfAbsent(descriptor.getFullName(), descriptor);
            descriptor.getNestedTypes().forEach(this::add);
            return this;
        }

        /**
         * Adds every message type of a serialized {@code FileDescriptorSet} (e.g. from
         * {@code buf build -o} or {@code protoc --descriptor_set_out --include_imports}). Imports of
         * well-known types and of {@code buf/validate/validate.proto} may be left out of the set.
         */
        public Builder addFileDescriptorSet(byte[] descriptorSet) {
            if (descriptorSet == null) {
                throw new ConfigException("addFileDescriptorSet: descriptorSet must not be null");
            }
            FileDescriptorSet set;
            try {
                set = FileDescriptorSet.parseFrom(descriptorSet, DescriptorSets.extensions());
            } catch (InvalidProtocolBufferException e) {
                throw new ConfigException("addFileDescriptorSet: not a FileDescriptorSet ("
                        + descriptorSet.length + " bytes): " + e.getMessage(), e);
            }
            Map<String, FileDescriptorProto> byName = new HashMap<>();
            set.getFileList().forEach(f -> byName.putIfAbsent(f.getName(), f));
            Map<String, FileDescriptor> built = new HashMap<>();
            for (FileDescriptorProto file : set.getFileList()) {
                try {
                    FileDescriptor fd = DescriptorSets.build(file.getName(), byName, built);
                    fd.getMessageTypes().forEach(this::add);
                } catch (DescriptorValidationException e) {
                    throw new ConfigException("addFileDescriptorSet: file '" + file.getName() + "' is invalid: "
                            + e.getMessage(), e);
                }
            }
            return this;
        }

        /** Deepest payload nesting accepted when unpacking; between 1 and 1000 (default 64). */
        public Builder maxRecursionDepth(int depth) {
            this.maxRecursionDepth = depth;
            return this;
        }

        public TypeRegistry build() {
            if (maxRecursionDepth < 1 || maxRecursionDepth > 1000) {
                throw new ConfigException("maxRecursionDepth must be between 1 and 1000, was " + maxRecursionDepth);
            }
            return new TypeRegistry(this);
        }
    }
}
