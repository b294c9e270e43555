package io.eventsync.jdbc.internal;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import com.github.shyiko.mysql.binlog.network.ServerException;
import io.eventsync.EventsyncException;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One binlog dump connection (the binlog client registers as a replica with {@code serverId}) read
 * from a position: the client's thread puts events into a bounded queue, the relay's thread takes them.
 * When the queue is full the client's thread waits, and with it the socket: the server holds back.
 *
 * <p>The client never reconnects by itself (keep-alive off): any failure ends the stream, and the relay
 * starts a new one from its stored position, so what it reads always follows what it confirmed.
 * A new dump with the same server id makes the server end the old one, so a relay taking over cuts off
 * a deposed one that still reads.
 */
public final class BinlogStream implements AutoCloseable {
    /** Put into the queue to wake the reader: a send completed, or the stream ended. */
    public static final Event WAKE = new Event(null, null);

    private final BinaryLogClient client;
    private final BlockingQueue<Event> queue;
    private final Thread thread;
    private volatile Exception failure;
    private volatile boolean ended;
    private volatile boolean closed;
    private final CountDownLatch started = new CountDownLatch(1);

    private BinlogStream(BinaryLogClient client, int capacity, String threadName) {
        this.client = client;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::read, threadName);
        this.thread.setDaemon(true);
    }

    /**
     * Connects and starts the dump at {@code from}; returns once the server accepted it.
     *
     * @throws EventsyncException when the connection or the dump request fails (the message says why)
     */
    public static BinlogStream open(BinlogReplica replica, BinlogPosition from, int capacity, long connectTimeoutMillis,
                                    String threadName) {
        BinaryLogClient client = new BinaryLogClient(replica.host(), replica.port(), replica.user(),
                replica.password() == null ? "" : replica.password());
        client.setServerId(replica.serverId());
        client.setBinlogFilename(from.file());
        client.setBinlogPosition(from.offset());
        client.setKeepAlive(false);
        client.setConnectTimeout(connectTimeoutMillis);
        EventDeserializer deserializer = new EventDeserializer();
        // Strings as bytes (decoded here as UTF-8, the outbox's charset); times as numbers: the relay reads
        // neither through the client's time zone handling.
        deserializer.setCompatibilityMode(EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY,
                EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG);
        client.setEventDeserializer(deserializer);
        BinlogStream stream = new BinlogStream(client, capacity, threadName);
        client.registerEventListener(stream::put);
        client.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onConnect(BinaryLogClient c) {
                stream.started.countDown();
            }

            @Override
            public void onCommunicationFailure(BinaryLogClient c, Exception ex) {
                stream.failure = ex;
            }

            @Override
            public void onEventDeserializationFailure(BinaryLogClient c, Exception ex) {
                stream.failure = ex;
            }
        });
        // connect(timeout) would run the client on a thread of its own; ours is named and owned here
        stream.thread.start();
        boolean started = false;
        try {
            started = stream.started.await(connectTimeoutMillis, TimeUnit.MILLISECONDS) && !stream.ended;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!started) {
            stream.close();
            Exception f = stream.failure;
            throw new EventsyncException("cannot start reading the binlog as " + replica + " at " + from
                    + ": " + (f != null ? describe(f) : "no answer within " + connectTimeoutMillis + " ms"), f);
        }
        return stream;
    }

    private void read() {
        try {
            client.connect(); // blocks until the stream ends
        } catch (IOException | RuntimeException e) {
            failure = e;
        } finally {
            ended = true;
            started.countDown();
            queue.offer(WAKE);
        }
    }

    private void put(Event event) {
        try {
            while (!closed) {
                if (queue.offer(event, 100, TimeUnit.MILLISECONDS)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The next event within {@code nanos}, {@link #WAKE}, or null; fails when the stream ended. */
    public Event poll(long nanos) throws InterruptedException {
        Event e = queue.poll(nanos, TimeUnit.NANOSECONDS);
        if (e == null || e == WAKE) {
            if (ended && queue.isEmpty()) {
                Exception f = failure;
                throw new EventsyncException("the binlog stream ended: " + (f != null ? describe(f)
                        : "the server closed it (another reader with the same server id, or a restart)"), f);
            }
        }
        return e;
    }

    /** The next event if one is queued, else null (never waits). */
    public Event next() {
        Event e = queue.poll();
        return e == WAKE ? queue.poll() : e;
    }

    /** Wakes a reader waiting in {@link #poll} (from any thread). */
    public void wake() {
        queue.offer(WAKE);
    }

    private static String describe(Exception e) {
        if (e instanceof ServerException s && s.getErrorCode() == 1236) {
            return s.getMessage() + " (error 1236: the binlog file the relay's stored position names is no longer on"
                    + " the server, purged by expire_logs_days/binlog_expire_logs_seconds or PURGE BINARY LOGS; the"
                    + " events after it are lost to every reader: store a new position (BinlogRelay.begin after"
                    + " deleting the source's row in eventsync_binlog_position) and re-bootstrap the copies)";
        }
        if (e instanceof TimeoutException) {
            return "timed out: " + e.getMessage();
        }
        return e.toString();
    }

    @Override
    public void close() {
        closed = true;
        try {
            client.disconnect();
        } catch (IOException e) {
            // the socket is gone either way
        }
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
