package io.eventsync.spring;

import io.eventsync.ConfigException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports an eventsync configuration error at startup as Boot reports a bad property: the message
 * (which names the property and the bad value) instead of the chain of bean creation errors around it.
 */
class ConfigFailureAnalyzer extends AbstractFailureAnalyzer<ConfigException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ConfigException cause) {
        return new FailureAnalysis("eventsync is misconfigured: " + cause.getMessage(),
                "Correct the eventsync.* property (or the @EventsyncHandler method) named above.", cause);
    }
}
