package io.eventsync.nats.internal;

import io.nats.client.Connection;
import io.nats.client.Consumer;
import io.nats.client.ErrorListener;
import io.nats.client.JetStreamSubscription;
import io.nats.client.support.Status;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends the client's asynchronous errors to SLF4J instead of java.util.logging. */
public final class Slf4jErrorListener implements ErrorListener {
    private static final Logger log = LoggerFactory.getLogger("io.eventsync.nats.client");

    @Override
    public void errorOccurred(Connection conn, String error) {
        log.warn("NATS server error: {}", Redaction.redact(error));
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
        log.warn("NATS client exception: {}", Redaction.redact(exp.toString()));
    }

    @Override
    public void slowConsumerDetected(Connection conn, Consumer consumer) {
        log.warn("NATS slow consumer: the client dropped messages it could not buffer; unacked ones are redelivered");
    }

    @Override
    public void heartbeatAlarm(Connection conn, JetStreamSubscription sub, long lastStreamSequence,
                               long lastConsumerSequence) {
        log.warn("NATS heartbeats missed after stream sequence {}; the pull is renewed", lastStreamSequence);
    }

    @Override
    public void pullStatusWarning(Connection conn, JetStreamSubscription sub, Status status) {
        log.debug("NATS pull status {} {}", status.getCode(), status.getMessage());
    }

    @Override
    public void pullStatusError(Connection conn, JetStreamSubscription sub, Status status) {
        log.warn("NATS pull failed: {} {}", status.getCode(), status.getMessage());
    }

    @Override
    public void unhandledStatus(Connection conn, JetStreamSubscription sub, Status status) {
        log.warn("NATS unhandled status: {} {}", status.getCode(), status.getMessage());
    }
}
