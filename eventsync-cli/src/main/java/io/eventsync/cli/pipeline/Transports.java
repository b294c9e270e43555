package io.eventsync.cli.pipeline;

import io.eventsync.ConfigException;
import io.eventsync.transport.Transport;
import java.util.Set;

/** The broker transports this build of the command can open (the embedded log is opened by {@link Pipeline}). */
final class Transports {
    private Transports() {}

    /** Transport kinds accepted in {@code transport.kind}. */
    static Set<String> kinds() {
        return Set.of("log");
    }

    static Transport open(PipelineConfig.TransportConfig config, String name) {
        throw new ConfigException("transport kind " + config.kind() + " is not available in this build");
    }
}
