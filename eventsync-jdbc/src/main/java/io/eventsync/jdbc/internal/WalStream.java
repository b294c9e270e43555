package io.eventsync.jdbc.internal;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * One logical replication connection reading a slot with {@code pgoutput}: transactions in commit
 * order, and the slot's confirmed position moved only by {@link #confirm}. Not thread-safe: the
 * driver's stream and its status updates share one socket, so one thread reads and confirms.
 */
public final class WalStream implements AutoCloseable {
    private final Connection connection;
    private final PGReplicationStream stream;
    private long confirmed;

    private WalStream(Connection connection, PGReplicationStream stream, long start) {
        this.connection = connection;
        this.stream = stream;
        this.confirmed = start;
    }

    /**
     * Opens a replication connection to {@code url} and starts streaming {@code slot} from its confirmed
     * position ({@code start}, which the server would also use if given less).
     */
    public static WalStream open(String url, Properties properties, String slot, String publication, long start,
                                 String applicationName) throws SQLException {
        Properties p = new Properties();
        p.putAll(properties);
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "14");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple"); // the replication protocol takes simple queries only
        PGProperty.APPLICATION_NAME.set(p, applicationName);
        Connection c = DriverManager.getConnection(url, p);
        try {
            PGReplicationStream s = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot)
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", publication)
                    .withSlotOption("messages", true)
                    .withSlotOption("binary", true)
                    .withStartPosition(LogSequenceNumber.valueOf(start))
                    // The driver's own status updates (answering the server, every 10 s) report only what
                    // confirm() set; it never confirms what was merely received.
                    .withStatusInterval(10, TimeUnit.SECONDS)
                    .withAutomaticFlush(false)
                    .start();
            return new WalStream(c, s, start);
        } catch (SQLException | RuntimeException e) {
            Jdbc.closeQuietly(c);
            throw e;
        }
    }

    /** The next message, or null when none has arrived; never blocks on the server. */
    public ByteBuffer readPending() throws SQLException {
        return stream.readPending();
    }

    /**
     * The last position the server reported: the start of the last message, or a keepalive's position
     * when that is later. Between transactions, with nothing in flight, it is safe to confirm.
     */
    public long lastReceived() {
        return stream.getLastReceiveLSN().asLong();
    }

    /** Tells the server that everything before {@code lsn} is published; it need never send it again. */
    public void confirm(long lsn) throws SQLException {
        if (lsn <= confirmed) {
            return;
        }
        LogSequenceNumber position = LogSequenceNumber.valueOf(lsn);
        stream.setAppliedLSN(position);
        stream.setFlushedLSN(position);
        stream.forceUpdateStatus();
        confirmed = lsn;
    }

    public long confirmed() {
        return confirmed;
    }

    /** Ends streaming; what was not confirmed is sent again to the next reader of the slot. */
    @Override
    public void close() {
        try {
            if (!stream.isClosed()) {
                stream.close();
            }
        } catch (SQLException | RuntimeException e) {
            // the connection is going away either way
        }
        Jdbc.closeQuietly(connection);
    }
}
