package io.eventsync.rabbitmq.internal;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import io.micrometer.core.instrument.Counter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Logs connection loss and recovery (by connection name, never credentials) and counts recoveries. */
public final class RecoveryEvents implements RecoveryListener {
    private static final Logger log = LoggerFactory.getLogger(RecoveryEvents.class);

    private final Counter reconnects;

    public RecoveryEvents(Counter reconnects) {
        this.reconnects = reconnects;
    }

    /** Listens to {@code connection} if it recovers automatically. */
    public void watch(Connection connection) {
        if (connection instanceof Recoverable recoverable) {
            recoverable.addRecoveryListener(this);
        }
    }

    @Override
    public void handleRecovery(Recoverable recoverable) {
        reconnects.increment();
        log.info("RabbitMQ connection {} recovered", name(recoverable));
    }

    @Override
    public void handleRecoveryStarted(Recoverable recoverable) {
        log.warn("RabbitMQ connection {} lost; recovering", name(recoverable));
    }

    private static String name(Recoverable recoverable) {
        return recoverable instanceof Connection c ? c.getClientProvidedName() : String.valueOf(recoverable);
    }
}
