package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a reader sleeps between empty reads: until a commit signals it, or the adaptive poll interval
 * passes, whichever comes first. On PostgreSQL it LISTENs on a dedicated connection (every writer,
 * in this JVM or not, NOTIFYs at commit); elsewhere it waits on the in-process {@link WakeSignal}.
 */
public interface Waiter extends AutoCloseable {

    /** @return true when woken by a signal (activity), false on timeout */
    boolean await(long timeoutMillis) throws InterruptedException;

    @Override
    void close();

    static Waiter create(Dialect dialect, DataSource dataSource, String channel, WakeSignal signal) {
        return dialect.supportsNotify() ? new Listen(dataSource, channel, signal) : new InProcess(signal);
    }

    /** Waits on the in-process signal. */
    final class InProcess implements Waiter {
        private final WakeSignal signal;
        private long seen;

        InProcess(WakeSignal signal) {
            this.signal = signal;
            this.seen = signal.generation();
        }

        @Override
        public boolean await(long timeoutMillis) throws InterruptedException {
            boolean woken = signal.await(seen, timeoutMillis);
            seen = signal.generation();
            return woken;
        }

        @Override
        public void close() {}
    }

    /**
     * LISTEN/NOTIFY. Holds one connection of the pool for as long as it lives. When the connection
     * breaks it falls back to the in-process signal for that wait and reconnects on the next one, so
     * a database restart degrades to polling, never to a stuck reader.
     */
    final class Listen implements Waiter {
        private static final Logger log = LoggerFactory.getLogger(Listen.class);
        /** The longest single wait for a notification, so an interrupt (a close) ends the wait soon. */
        private static final long LISTEN_SLICE_MILLIS = 200;
        private final DataSource dataSource;
        private final String channel;
        private final InProcess fallback;
        private Connection connection;

        Listen(DataSource dataSource, String channel, WakeSignal signal) {
            this.dataSource = dataSource;
            this.channel = channel;
            this.fallback = new InProcess(signal);
        }

        @Override
        public boolean await(long timeoutMillis) throws InterruptedException {
            try {
                if (connection == null) {
                    connection = dataSource.getConnection();
                    connection.setAutoCommit(true);
                    try (Statement st = connection.createStatement()) {
                        st.execute("LISTEN " + channel); // channel is a hash: a plain identifier
                    }
                }
                // In slices: the driver's wait does not end on an interrupt, and a close interrupts this thread.
                PGConnection pg = connection.unwrap(PGConnection.class);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, timeoutMillis));
                while (true) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    PGNotification[] notes = pg.getNotifications((int) Math.max(1, Math.min(LISTEN_SLICE_MILLIS, left)));
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                    if (notes != null && notes.length > 0) {
                        return true;
                    }
                    if (left <= LISTEN_SLICE_MILLIS) {
                        return false;
                    }
                }
            } catch (SQLException e) {
                log.debug("LISTEN {} failed, polling until it reconnects: {}", channel, e.getMessage());
                close();
                return fallback.await(timeoutMillis);
            }
        }

        @Override
        public void close() {
            Jdbc.closeQuietly(connection);
            connection = null;
        }
    }
}
