package io.eventsync.nats.internal;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs connection state changes (events only, never URLs with credentials) and tells the transport
 * when the connection is back, so its subscriptions can resume.
 */
public final class ConnectionEvents implements ConnectionListener {
    private static final Logger log = LoggerFactory.getLogger(ConnectionEvents.class);

    private volatile Runnable onRecovered = () -> { };

    /** What to run once the client has reconnected and resubscribed. */
    public void onRecovered(Runnable action) {
        this.onRecovered = action;
    }

    @Override
    public void connectionEvent(Connection conn, Events type) {
        switch (type) {
            case DISCONNECTED -> log.warn("NATS connection lost; reconnecting");
            case RECONNECTED -> log.info("NATS connection reconnected");
            case RESUBSCRIBED -> {
                log.info("NATS connection resubscribed");
                onRecovered.run();
            }
            case CLOSED -> log.debug("NATS connection closed");
            default -> log.debug("NATS connection event {}", type);
        }
    }
}
