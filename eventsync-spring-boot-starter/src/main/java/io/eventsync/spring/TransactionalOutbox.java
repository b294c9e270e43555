package io.eventsync.spring;

import com.google.protobuf.Message;
import io.eventsync.Position;
import io.eventsync.envelope.Events;
import io.eventsync.jdbc.Outbox;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The service's {@link Outbox}, joined to the current Spring transaction: events are written on the
 * connection of the transaction manager ({@link DataSourceUtils}), so they commit or roll back with
 * the caller's {@code @Transactional} business change. Appending outside a transaction is an error,
 * never an auto-commit (an event must not exist without its change, nor the change without it).
 */
public final class TransactionalOutbox {
    private final DataSource dataSource;
    private final Outbox outbox;

    public TransactionalOutbox(DataSource dataSource, Outbox outbox) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.outbox = Objects.requireNonNull(outbox, "outbox");
    }

    /** This service's source name. */
    public String source() {
        return outbox.source();
    }

    /** Writes an event about {@code subject} at version {@code sequence}; see {@link Events#create}. */
    public Position append(String subject, long sequence, Message payload) {
        return append(Events.create(outbox.source(), subject, sequence, payload));
    }

    /** Writes the events in the current transaction. */
    public Position append(Envelope... events) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalStateException("eventsync outbox append outside a transaction: call it from a"
                    + " @Transactional method (or a TransactionTemplate), so the events commit with the change they"
                    + " describe");
        }
        Connection c = DataSourceUtils.getConnection(dataSource);
        try {
            return outbox.append(c, events);
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }
}
