package io.eventsync.http;

import java.time.Duration;
import java.util.List;

/**
 * What a {@link FeedServer} serves: an append-only log per topic whose offsets are gapless and in
 * commit order. The embedded log ({@code eventsync_log}, appended by the single relay leader) is the
 * implementation in production; {@link JdbcLogFeedSource} reads it. Implementations are thread-safe.
 */
public interface FeedSource {

    /** Entries of {@code topic} with offset {@code >= from}, ascending, at most {@code limit}. */
    List<LogRecord> read(String topic, long from, int limit);

    /** The offsets {@code topic} currently holds; {@link LogRange#EMPTY} when it holds none. */
    LogRange range(String topic);

    /**
     * Blocks until {@code topic} holds offset {@code from} or {@code timeout} passes. Must not
     * busy-loop: wait on a commit signal, or poll at a short adaptive interval.
     *
     * @return true when the entry at {@code from} exists
     */
    boolean await(String topic, long from, Duration timeout) throws InterruptedException;

    /** One log entry: its offset and the encoded envelope. */
    record LogRecord(long offset, byte[] bytes) {
        public LogRecord {
            java.util.Objects.requireNonNull(bytes, "bytes");
        }
    }

    /**
     * The offsets a topic holds.
     *
     * <p>Offsets start at 0. {@code oldest == head} when the topic holds no entry (none appended yet,
     * or retention removed all).
     *
     * @param oldest the smallest offset still held (retention removes older ones)
     * @param head   the offset the log will assign next (one past the last appended)
     */
    record LogRange(long oldest, long head) {
        public static final LogRange EMPTY = new LogRange(0, 0);
    }
}
