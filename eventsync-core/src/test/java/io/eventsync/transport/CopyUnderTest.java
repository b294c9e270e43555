package io.eventsync.transport;

import io.eventsync.dispatch.DeadLetter;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The consuming service of {@link HostileInputContract}: a real {@code Dispatcher} applying events with
 * a StringValue payload to a copy table (key = subject, the payload's value, version = sequence) in a
 * real database, with its inbox and dead letters there. The JDBC module's test-jar provides one on
 * PostgreSQL ({@code io.eventsync.jdbc.PostgresCopy}); the core cannot, since it knows no database.
 */
public interface CopyUnderTest extends AutoCloseable {

    /** The dispatcher, to subscribe with. */
    DeliveryHandler handler();

    /** Every dead letter of the subscription, read from the store. */
    List<DeadLetter> deadLetters();

    /** Ids of the events the inbox holds (applied or skipped as stale). */
    Set<String> appliedEventIds();

    /** The copy table: key to (value, version). */
    Map<String, Row> rows();

    /** Keys the dispatcher holds back behind a dead letter. */
    Set<String> parkedKeys();

    /** Deliveries taken and not yet applied, skipped or dead-lettered. */
    int inFlight();

    @Override
    void close();

    record Row(String value, long version) {
    }
}
