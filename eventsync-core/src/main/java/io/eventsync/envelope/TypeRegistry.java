package io.eventsync.envelope;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.eventsync.DecodeException;
import io.eventsync.v1.Envelope;
import java.util.Optional;

/**
 * The payload types a service knows: generated classes ({@link Builder#add(Message)}) and types
 * loaded from a descriptor set ({@link Builder#addFileDescriptorSet}), which unpack as DynamicMessage.
 * Immutable once built.
 */
public final class TypeRegistry {
    // IMPLEMENTATION PENDING (core issue): the codec helper fills this in.

    public static Builder builder() { return new Builder(); }

    public Optional<Descriptor> find(String fullName) { throw new UnsupportedOperationException("pending"); }

    /**
     * Unpacks the envelope's payload to its registered type. Throws {@link DecodeException} naming the
     * type when it is unknown or its bytes do not parse.
     */
    public Message unpack(Envelope envelope) throws DecodeException { throw new UnsupportedOperationException("pending"); }

    public static final class Builder {
        public Builder add(Message defaultInstance) { return this; }
        public Builder add(Descriptor descriptor) { return this; }
        public Builder addFileDescriptorSet(byte[] descriptorSet) { return this; }
        public TypeRegistry build() { return new TypeRegistry(); }
    }
}
