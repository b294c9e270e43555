package io.eventsync.cli.pipeline;

import java.util.HashSet;
import java.util.Set;

/** What this build can run. */
public final class PipelineConfigs {
    private PipelineConfigs() {}

    /** {@code log}, {@code http} (pulling a feed server) and the broker transports compiled into this build. */
    public static Set<String> transportKinds() {
        Set<String> kinds = new HashSet<>(Transports.kinds());
        kinds.add("log");
        kinds.add("http");
        kinds.add("direct");
        return kinds;
    }
}
