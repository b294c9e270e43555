package io.eventsync.http.internal;

import io.eventsync.http.FeedClient;
import io.eventsync.http.FeedGoneException;
import io.eventsync.http.FeedRejectedException;
import io.eventsync.http.FeedUnavailableException;
import io.eventsync.http.PositionStore;
import io.eventsync.http.v1.FeedEntry;
import io.eventsync.http.v1.FeedPage;
import io.eventsync.internal.Backoff;
import io.eventsync.transport.Delivery;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription to an HTTP feed: a named thread that long-polls from the stored position, hands
 * each entry to the delivery handler in offset order, and stores the acknowledged position.
 *
 * <p>Two positions: {@code fetched} (next offset to ask the server for) runs ahead, so fetching
 * overlaps applying; {@code acked} (next offset not yet acknowledged) is what is stored, so a crash
 * or a new subscription resumes at the first event not applied and loses nothing (the inbox drops
 * what is delivered twice). The stored position is written whenever acknowledgements advanced,
 * before each fetch and on close — at most one long-poll wait behind.
 *
 * <p>Failures (server down, 5xx, 429, timeouts) are retried with exponential back-off and full jitter,
 * honouring Retry-After, from the same position; refusals (401, 400) are logged as errors and
 * retried at the longest back-off, since an operator can fix them on the server and stopping would hide
 * that. A 410 (the feed no longer holds the position) cannot heal by retrying: with no
 * {@link Rebootstrap} the puller reports it to the handler and stops; with one, it bootstraps the copy
 * again and resumes at the snapshot's position.
 */
public final class FeedPuller implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(FeedPuller.class);
    private static final Duration HEAD_PROBE_AFTER = Duration.ofSeconds(1);

    /**
     * Bootstraps the group again from a snapshot through {@code handler} (the subscription's own apply
     * path), stores the snapshot's position and says where to resume.
     */
    @FunctionalInterface
    public interface Rebootstrap {
        Resumed run(DeliveryHandler handler) throws InterruptedException;
    }

    /** What a re-bootstrap did: the snapshot, the rows it delivered and the stored position to resume from. */
    public record Resumed(String snapshot, long rows, long position) {}

    private final SubscriptionSpec spec;
    private final DeliveryHandler handler;
    private final FeedClient client;
    private final PositionStore positions;
    private final int pageSize;
    private final Duration pollWait;
    private final Backoff.Sequence backoff;
    private final Duration maxBackoff;
    private final Runnable onClose;
    private final Rebootstrap rebootstrap;
    private final AtomicLong acked = new AtomicLong();
    private final AtomicLong head = new AtomicLong();
    private final Counter delivered;
    private final Counter failures;
    private final Thread thread;
    private volatile boolean closed;
    /** When the pulling thread last received a page (System.nanoTime). */
    private volatile long lastPageNanos = System.nanoTime();
    private long fetched;
    private long saved;

    public FeedPuller(SubscriptionSpec spec, DeliveryHandler handler, FeedClient client, PositionStore positions,
                      int pageSize, Duration pollWait, Duration initialBackoff, Duration maxBackoff,
                      MeterRegistry meters, Rebootstrap rebootstrap, Runnable onClose) {
        this.spec = spec;
        this.handler = handler;
        this.client = client;
        this.positions = positions;
        this.pageSize = pageSize;
        this.pollWait = pollWait;
        this.backoff = Backoff.doublingWithJitter(initialBackoff, maxBackoff).sequence();
        this.maxBackoff = maxBackoff;
        this.onClose = onClose;
        this.rebootstrap = rebootstrap;
        String[] tags = {"transport", "http", "topic", spec.topic(), "group", spec.group()};
        this.delivered = Counter.builder("eventsync.http.pull.events").tags(tags).register(meters);
        this.failures = Counter.builder("eventsync.http.pull.failures").tags(tags).register(meters);
        Gauge.builder("eventsync.http.pull.lag", this, p -> Math.max(0, p.head.get() - p.acked.get())).tags(tags).register(meters);
        this.thread = new Thread(this::run, "eventsync-http-pull-" + spec.topic() + "-" + spec.group());
        this.thread.setDaemon(true);
    }

    /** Loads the stored position and starts the pulling thread. */
    public FeedPuller start(long initialPosition) {
        fetched = initialPosition;
        saved = initialPosition;
        acked.set(initialPosition);
        thread.start();
        log.info("pulling feed {} for group {} from offset {}", spec.topic(), spec.group(), initialPosition);
        return this;
    }

    @Override
    public SubscriptionSpec spec() {
        return spec;
    }

    private void run() {
        try {
            while (!closed) {
                storeAcked();
                FeedPage page;
                try {
                    page = client.events(spec.topic(), fetched, pageSize, pollWait);
                    backoff.reset();
                } catch (FeedUnavailableException e) {
                    failures.increment();
                    Duration wait = backoff.next(e.retryAfter().orElse(Duration.ZERO));
                    log.warn("feed {} unavailable for group {} at offset {} (failure {}), retrying in {} ms: {}",
                            spec.topic(), spec.group(), fetched, backoff.failures(), wait.toMillis(), e.getMessage());
                    Thread.sleep(wait.toMillis());
                    continue;
                } catch (FeedGoneException e) {
                    failures.increment();
                    if (!resumeAfterGone(e)) {
                        return; // stopped: the handler was told, the stored position stays where it was
                    }
                    continue;
                } catch (FeedRejectedException e) {
                    failures.increment();
                    log.error("feed {} refused group {} at offset {}; retrying in {} s until an operator fixes it: {}",
                            spec.topic(), spec.group(), fetched, maxBackoff.toSeconds(), e.getMessage());
                    Thread.sleep(maxBackoff.toMillis());
                    continue;
                }
                head.accumulateAndGet(page.getHead(), Math::max);
                lastPageNanos = System.nanoTime();
                try {
                    deliver(page);
                } catch (RuntimeException e) {
                    // The handler refused an entry (e.g. its database is down): it was not taken, and
                    // `fetched` still points at it, so it is fetched and offered again after a back-off.
                    failures.increment();
                    Duration wait = backoff.next(Duration.ZERO);
                    log.error("delivering feed {} offset {} to group {} failed, retrying in {} ms",
                            spec.topic(), fetched, spec.group(), wait.toMillis(), e);
                    Thread.sleep(wait.toMillis());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            storeAcked();
        }
    }

    /**
     * The feed no longer holds {@code fetched}. Events older than its oldest offset were removed unread,
     * so resuming at the oldest offset would skip them silently: either stop and report (no
     * {@link Rebootstrap}), or bootstrap again and resume at the snapshot's position.
     *
     * @return true to go on pulling, false when the puller stops
     */
    private boolean resumeAfterGone(FeedGoneException gone) throws InterruptedException {
        if (rebootstrap == null) {
            log.error("feed {} no longer holds offset {} for group {} (oldest retained offset {}): stopped pulling,"
                    + " nothing after it is applied; bootstrap the copy again from a snapshot (or subscribe with"
                    + " GonePolicy.REBOOTSTRAP)", spec.topic(), gone.position(), spec.group(), gone.oldest());
            handler.onSubscriptionFailed(spec, gone);
            return false;
        }
        long from = gone.position();
        log.warn("feed {} no longer holds offset {} for group {} (oldest retained offset {}): bootstrapping the copy"
                + " again from a snapshot", spec.topic(), from, spec.group(), gone.oldest());
        Resumed resumed;
        try {
            resumed = rebootstrap.run(handler);
        } catch (RuntimeException e) {
            // The snapshot is not served, was refused or was not applied in time: the position did not
            // move, so the next fetch answers 410 again and the bootstrap is tried again.
            failures.increment();
            log.error("bootstrapping group {} again after feed {} dropped offset {} failed; trying again in {} ms",
                    spec.group(), spec.topic(), from, maxBackoff.toMillis(), e);
            handler.onSubscriptionFailed(spec, new io.eventsync.EventsyncException("feed " + spec.topic()
                    + " no longer holds position " + from + " and bootstrapping again failed (retrying): " + e.getMessage(), e));
            Thread.sleep(maxBackoff.toMillis());
            return true;
        }
        fetched = resumed.position();
        acked.accumulateAndGet(resumed.position(), Math::max);
        saved = Math.max(saved, resumed.position());
        handler.onSubscriptionRecovered(spec);
        log.warn("re-bootstrapped group {} on feed {} from snapshot {}: {} rows re-applied (through the version"
                        + " guard: a row not newer than the copy's changed nothing), position moved from {} to {}; rows"
                        + " deleted at the source meanwhile are in no snapshot and may remain in the copy (eventsync"
                        + " verify --repair --apply removes them)", spec.group(), spec.topic(), resumed.snapshot(),
                resumed.rows(), from, resumed.position());
        return true;
    }

    private void deliver(FeedPage page) throws InterruptedException {
        for (FeedEntry entry : page.getEntriesList()) {
            if (entry.getOffset() != fetched) {
                // The embedded log is gapless; a gap means entries vanished between two reads.
                log.error("feed {} skipped from offset {} to {} for group {}: the log lost entries",
                        spec.topic(), fetched, entry.getOffset(), spec.group());
            }
            handler.onDelivery(new HttpDelivery(entry));
            delivered.increment();
            fetched = entry.getOffset() + 1;
        }
        if (page.getEntriesCount() == 0) {
            fetched = page.getNext();
        }
    }

    private void storeAcked() {
        long next = acked.get();
        if (next > saved) {
            try {
                positions.save(spec.group(), spec.topic(), next);
                saved = next;
            } catch (RuntimeException e) {
                // Not fatal: the position is saved on a later round; a crash meanwhile only redelivers.
                log.warn("storing feed position {} of group {} on {} failed; will retry", next, spec.group(), spec.topic(), e);
            }
        }
    }

    /** Acks arrive in offset order (the Delivery contract), so the next unacknowledged offset only grows. */
    private void ack(long offset) {
        acked.accumulateAndGet(offset + 1, Math::max);
    }

    /**
     * The feed's head (every page tells it) minus the first offset not yet acknowledged. While the
     * pulling thread is busy handing out a page (the handler pushes back), no page tells the head, so it
     * is asked for: one page of at most one entry, without waiting, once per call after a second
     * without a page. Empty while the server cannot be reached.
     */
    @Override
    public java.util.Optional<java.util.Map<String, Long>> lag() {
        if (closed) {
            return java.util.Optional.empty();
        }
        if (System.nanoTime() - lastPageNanos > HEAD_PROBE_AFTER.toNanos()) {
            try {
                head.accumulateAndGet(client.events(spec.topic(), acked.get(), 1, Duration.ZERO).getHead(), Math::max);
            } catch (FeedUnavailableException | FeedRejectedException e) {
                log.debug("feed {}: reading its head for the lag of group {} failed: {}", spec.topic(), spec.group(),
                        e.getMessage());
                return java.util.Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.of(java.util.Map.of(PositionStore.PARTITION, Math.max(0, head.get() - acked.get())));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("puller of feed {} for group {} did not stop within 10s", spec.topic(), spec.group());
        }
        onClose.run();
    }

    /**
     * One feed entry. The feed carries no key of its own, so {@link #transportKey()} is empty: an entry
     * that is not a well-formed event parks nothing. An entry without envelope bytes (an empty log row,
     * or a server that sent neither body) is defective; an entry with the decoded form (JSON) is encoded
     * again, though a protobuf page, which this client asks for, always carries the bytes.
     */
    private final class HttpDelivery implements Delivery {
        private final long offset;
        private final byte[] bytes;
        private final String defect;

        HttpDelivery(FeedEntry entry) {
            this.offset = entry.getOffset();
            switch (entry.getBodyCase()) {
                case ENVELOPE -> {
                    this.bytes = entry.getEnvelope().toByteArray();
                    this.defect = bytes.length == 0 ? "the feed entry's envelope is empty" : null;
                }
                case EVENT -> {
                    this.bytes = entry.getEvent().toByteArray();
                    this.defect = null;
                }
                default -> {
                    this.bytes = new byte[0];
                    this.defect = "the feed entry has no envelope (neither bytes nor a decoded event)";
                }
            }
        }

        @Override public String partition() { return PositionStore.PARTITION; }
        @Override public long offset() { return offset; }
        @Override public byte[] bytes() { return bytes; }
        @Override public int deliveryCount() { return 1; }
        @Override public String origin() { return "http feed " + spec.topic() + " offset " + offset; }
        @Override public String defect() { return defect; }
        @Override public void ack() { FeedPuller.this.ack(offset); }
    }
}
