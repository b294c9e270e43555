package io.eventsync;

/** Bytes that are not a well-formed envelope or payload. The message names the field or limit. */
public class DecodeException extends PermanentException {
    public DecodeException(String message) {
        super(message);
    }

    public DecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
