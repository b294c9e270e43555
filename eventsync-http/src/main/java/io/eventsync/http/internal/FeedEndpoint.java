package io.eventsync.http.internal;

import io.eventsync.http.FeedSource;
import io.eventsync.http.FeedSource.LogRange;
import io.eventsync.http.FeedSource.LogRecord;
import io.eventsync.http.v1.FeedPage;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** {@code GET /v1/feeds/{topic}/events?from=&limit=&wait=}: a page of the topic's log, long-polling when empty. */
public final class FeedEndpoint {
    private static final Set<String> PARAMETERS = Set.of("from", "limit", "wait");

    private final FeedSource source;
    private final Set<String> topics;
    private final int defaultPageSize;
    private final int maxPageSize;
    private final Duration maxWait;
    private final Representation representation;

    public FeedEndpoint(FeedSource source, Set<String> topics, int defaultPageSize, int maxPageSize,
                        Duration maxWait, Representation representation) {
        this.source = source;
        this.topics = topics == null ? null : Set.copyOf(topics); // null: every topic of the log
        this.defaultPageSize = defaultPageSize;
        this.maxPageSize = maxPageSize;
        this.maxWait = maxWait;
        this.representation = representation;
    }

    public FeedPage page(String topic, String rawQuery, MediaType media) throws InterruptedException {
        if (topics != null && !topics.contains(topic)) {
            throw new HttpProblem(404, "no feed named '" + topic + "' is served here");
        }
        QueryParameters query = new QueryParameters(rawQuery, PARAMETERS);
        long from = query.number("from", 0, 0, Long.MAX_VALUE,
                "from is the first offset you want: 0 at the beginning, else the 'next' of your last page");
        // Larger pages and waits than allowed are capped rather than refused: the client still makes progress.
        int limit = (int) Math.min(maxPageSize, query.number("limit", defaultPageSize, 1, Integer.MAX_VALUE,
                "limit is the largest number of events to return, >= 1"));
        long waitSeconds = Math.min(maxWait.toSeconds(), query.number("wait", 0, 0, Integer.MAX_VALUE,
                "wait is how many seconds to wait for events when none are available"));

        LogRange range = checkPosition(topic, from);
        List<LogRecord> records = source.read(topic, from, limit);
        if (records.isEmpty() && waitSeconds > 0 && source.await(topic, from, Duration.ofSeconds(waitSeconds))) {
            records = source.read(topic, from, limit);
        }
        FeedPage.Builder page = FeedPage.newBuilder().setTopic(topic).setNext(from);
        for (LogRecord record : records) {
            page.addEntries(representation.entry(record.offset(), record.bytes(), media));
            page.setNext(record.offset() + 1);
        }
        return page.setHead(Math.max(range.head(), page.getNext())).build();
    }

    /**
     * A position beyond the head belongs to another log (another source, or a log that was reset); a
     * position before the retained range means events were removed that the client never saw. Both
     * would silently lose or misapply events if served, so both are refused with what to do.
     */
    private LogRange checkPosition(String topic, long from) {
        LogRange range = source.range(topic);
        if (from > range.head()) {
            throw new HttpProblem(400, "from=" + from + " is beyond the head (" + range.head() + ") of feed '" + topic
                    + "': the position does not belong to this feed; bootstrap the copy again from a snapshot");
        }
        if (from < range.oldest()) {
            throw HttpProblem.gone("from=" + from + " is older than what feed '" + topic + "' retains (oldest offset "
                    + range.oldest() + "): events were removed; bootstrap the copy again from a snapshot", range.oldest());
        }
        return range;
    }
}
