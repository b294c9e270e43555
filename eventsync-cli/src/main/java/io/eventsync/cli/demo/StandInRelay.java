package io.eventsync.cli.demo;

import io.eventsync.EventsyncException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.v1.Envelope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal outbox relay for the demo until eventsync-jdbc's {@code Relay} is wired in: reads the
 * outbox in id order, stamps each event's position, publishes it, waits for the transport's acks,
 * then deletes what was published. Single instance, so no lease is needed here.
 */
final class StandInRelay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StandInRelay.class);
    private final DataSource dataSource;
    private final Publisher publisher;
    private final EnvelopeCodec codec = EnvelopeCodec.defaults();
    private final Thread thread;
    private volatile boolean running = true;
    private final Object wake = new Object();
    private boolean signalled;

    StandInRelay(DataSource dataSource, Publisher publisher, String source) {
        this.dataSource = dataSource;
        this.publisher = publisher;
        this.thread = new Thread(this::loop, "eventsync-relay-" + source);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Called after a source commit so the relay does not wait for its next poll. */
    void wake() {
        synchronized (wake) {
            signalled = true;
            wake.notifyAll();
        }
    }

    private void loop() {
        long last = 0;
        while (running) {
            try {
                int published = publishBatch(last);
                if (published < 0) {
                    synchronized (wake) {
                        if (!signalled) {
                            wake.wait(20);
                        }
                        signalled = false;
                    }
                } else {
                    last = published;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | SQLException e) {
                log.warn("relay batch failed, retrying: {}", e.toString());
            }
        }
    }

    /** Returns the last published id, or -1 when there was nothing to publish. */
    private int publishBatch(long after) throws SQLException, InterruptedException {
        List<long[]> ids = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement st = c.prepareStatement(
                     "SELECT id, payload FROM eventsync_outbox ORDER BY id LIMIT 500")) {
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    Envelope e = codec.decode(rs.getBytes(2)).toBuilder().setPosition(id).build();
                    sends.add(publisher.send(new OutboundEvent(e, codec.encode(e))));
                    ids.add(new long[] {id});
                }
            }
            if (ids.isEmpty()) {
                return -1;
            }
            try {
                CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new EventsyncException("publishing outbox batch failed", e);
            }
            long maxId = ids.get(ids.size() - 1)[0];
            try (PreparedStatement del = c.prepareStatement("DELETE FROM eventsync_outbox WHERE id <= ?")) {
                del.setLong(1, maxId);
                del.executeUpdate();
            }
            return (int) maxId;
        }
    }

    @Override
    public void close() {
        running = false;
        wake();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
