package io.eventsync;

/** Configuration that cannot work. The message names the property and the bad value. */
public class ConfigException extends EventsyncException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
