package io.eventsync.handler;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The handlers of one subscription, one per payload type. Registering a second handler for a type
 * is a {@link ConfigException} here, at registration, not a surprise at run time.
 */
public final class HandlerRegistry {

    /** A handler with its options, keyed by the payload's full protobuf name. */
    public record Registration(String type, Handler<Message> handler, HandlerOptions options) {
        public Registration {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(handler, "handler");
            Objects.requireNonNull(options, "options");
        }
    }

    private final Map<String, Registration> byType;

    private HandlerRegistry(Map<String, Registration> byType) {
        this.byType = Collections.unmodifiableMap(new LinkedHashMap<>(byType));
    }

    public static Builder builder() {
        return new Builder();
    }

    public Optional<Registration> find(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    public Map<String, Registration> registrations() {
        return byType;
    }

    public static final class Builder {
        private final Map<String, Registration> byType = new LinkedHashMap<>();

        private Builder() {}

        /** Registers a typed handler; the payload is unpacked to {@code type} before the call. */
        public <T extends Message> Builder on(Class<T> type, Handler<T> handler, HandlerOptions options) {
            Objects.requireNonNull(type, "type");
            return add(descriptorOf(type), erase(type, handler), options);
        }

        public <T extends Message> Builder on(Class<T> type, Handler<T> handler) {
            return on(type, handler, HandlerOptions.defaults());
        }

        /**
         * Registers a handler for a type known only by descriptor (e.g. loaded from a descriptor set);
         * it receives the payload as a {@link com.google.protobuf.DynamicMessage} or the generated class
         * if the type registry knows it.
         */
        public Builder on(Descriptor type, Handler<Message> handler, HandlerOptions options) {
            return add(type, handler, options);
        }

        private Builder add(Descriptor type, Handler<Message> handler, HandlerOptions options) {
            Objects.requireNonNull(handler, "handler");
            Objects.requireNonNull(options, "options");
            String name = type.getFullName();
            if (byType.containsKey(name)) {
                throw new ConfigException("a handler for payload type " + name
                        + " is already registered on this subscription; register one handler per type");
            }
            byType.put(name, new Registration(name, handler, options));
            return this;
        }

        public HandlerRegistry build() {
            return new HandlerRegistry(byType);
        }

        @SuppressWarnings("unchecked")
        private static <T extends Message> Handler<Message> erase(Class<T> type, Handler<T> handler) {
            return (payload, context) -> {
                if (!type.isInstance(payload)) {
                    throw new io.eventsync.PermanentException("handler for " + type.getName()
                            + " received a payload of " + payload.getClass().getName()
                            + "; add the type to the TypeRegistry so it is unpacked to its generated class");
                }
                return handler.handle((T) payload, context);
            };
        }

        private static Descriptor descriptorOf(Class<? extends Message> type) {
            try {
                return (Descriptor) type.getMethod("getDescriptor").invoke(null);
            } catch (ReflectiveOperationException e) {
                throw new ConfigException("not a generated protobuf message class: " + type.getName(), e);
            }
        }
    }
}
