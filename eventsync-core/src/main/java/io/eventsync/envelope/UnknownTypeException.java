package io.eventsync.envelope;

import io.eventsync.DecodeException;

/**
 * An envelope whose payload type is not in the {@link TypeRegistry}. Permanent like every decode
 * failure; a dispatcher may apply its unknown-type policy (dead-letter or skip) to it.
 */
public class UnknownTypeException extends DecodeException {
    private final String typeName;

    public UnknownTypeException(String typeName, String message) {
        super(message);
        this.typeName = typeName;
    }

    /** The payload's full protobuf name as carried by the envelope (its type URL's last segment). */
    public String typeName() {
        return typeName;
    }
}
