package io.eventsync.jdbc.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.transport.OutboundEvent;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The WAL relay's sends in flight, in WAL (commit) order, and the position it may confirm to the
 * replication slot: the highest LSN before which every event was confirmed by the transport. Owned by
 * the relay's reader thread; the transport's completion threads only run the {@code wake} callback.
 *
 * <p>Two invariants. A position is confirmable only when every event before it is confirmed, so the
 * slot never passes an event the transport does not have (a crash redelivers, never loses). A key's
 * events are sent one after another: an event is handed to the transport only once the previous event
 * of its key is confirmed, and not at all if that one failed. Sent together, a failed earlier event
 * (sent again after a restart) could arrive after a later one of its key that had succeeded.
 *
 * <p>An event the transport refuses for good (a {@link PermanentException}: over its size limit,
 * refused by the broker) is handed to the {@link Refusals} (the relay dead letters) when it reaches the
 * head, and the window goes on past it: the WAL cannot be held back for one key, and a stall behind it
 * would hold every key of the source. The key's later events are sent without waiting for it.
 */
public final class WalWindow {
    /** An event (with its send) or a mark (a position); {@code millis}: when its transaction committed. */
    private record Entry(OutboundEvent event, String key, CompletableFuture<Void> sent, long queuedNanos, long mark,
                         long millis) {
        boolean isMark() {
            return event == null;
        }
    }

    /** The oldest event in flight failed or timed out: nothing after it may be confirmed. */
    public static final class SendFailed extends EventsyncException {
        private final transient OutboundEvent event;

        SendFailed(OutboundEvent event, String message, Throwable cause) {
            super(message, cause);
            this.event = event;
        }

        public OutboundEvent event() {
            return event;
        }
    }

    /** Where an event the transport refused for good goes; called on the reader thread, before the window passes it. */
    @FunctionalInterface
    public interface Refusals {
        /**
         * Keeps {@code event} durably (the relay dead letters); throws when it could not, and the window
         * then stays before it.
         */
        void refused(OutboundEvent event, Throwable reason);
    }

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private final Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
    private long confirmable;
    private long lastMark;
    private int events;

    /** @param start the slot's confirmed position: nothing before it is in flight */
    public WalWindow(long start) {
        this.confirmable = start;
        this.lastMark = start;
    }

    /**
     * Queues {@code event} behind the earlier events of its key and sends it through {@code sender} when
     * they are confirmed. {@code wake} runs on whichever thread completes the send.
     *
     * @param commitMillis when the event's transaction committed (for the lag metric)
     */
    public void send(OutboundEvent event, long commitMillis, Function<OutboundEvent, CompletableFuture<Void>> sender,
                     Runnable wake) {
        String key = event.key();
        CompletableFuture<Void> previous = lastOfKey.get(key);
        CompletableFuture<Void> sent;
        if (previous == null || (previous.isDone() && (!previous.isCompletedExceptionally() || refusedForGood(previous)))) {
            sent = sendNow(event, sender);
        } else {
            sent = previous.handle((ok, failure) -> failure).thenCompose(failure -> failure == null || isPermanent(failure)
                    ? sendNow(event, sender)
                    : CompletableFuture.failedFuture(new EventsyncException("not sent: an earlier event of key "
                            + key + " failed", failure)));
        }
        lastOfKey.put(key, sent);
        entries.addLast(new Entry(event, key, sent, System.nanoTime(), 0, commitMillis));
        events++;
        sent.whenComplete((ok, failure) -> wake.run());
    }

    /** Whether {@code failure} (or a cause of it) says the transport will never take the event. */
    public static boolean isPermanent(Throwable failure) {
        return permanentCause(failure) != null;
    }

    /** The {@link PermanentException} in {@code failure}'s cause chain; null when there is none. */
    public static PermanentException permanentCause(Throwable failure) {
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof PermanentException p) {
                return p;
            }
        }
        return null;
    }

    private static boolean refusedForGood(CompletableFuture<Void> failed) {
        return isPermanent(causeOf(failed));
    }

    /**
     * A sender through {@code publisher} that refuses for good, as the transport would, an event over the
     * size limit it announces.
     */
    public static Function<OutboundEvent, CompletableFuture<Void>> withinLimit(io.eventsync.transport.Publisher publisher) {
        return event -> {
            int limit = publisher.maxEventBytes();
            if (event.bytes().length > limit) {
                return CompletableFuture.failedFuture(new PermanentException("oversize: event " + event.envelope().getId()
                        + " (key " + event.key() + ", position " + event.envelope().getPosition() + ") is "
                        + event.bytes().length + " bytes, over the transport's limit of " + limit));
            }
            return publisher.send(event);
        };
    }

    private static CompletableFuture<Void> sendNow(OutboundEvent event,
                                                   Function<OutboundEvent, CompletableFuture<Void>> sender) {
        try {
            return sender.apply(event);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * A position that becomes confirmable once the events queued so far are confirmed: the end of a
     * transaction, a message outside any transaction, a keepalive's position between transactions.
     * Positions only move forward; a lower one is ignored.
     */
    public void mark(long lsn, long commitMillis) {
        if (lsn <= lastMark) {
            return;
        }
        lastMark = lsn;
        if (entries.isEmpty()) {
            confirmable = lsn;
        } else {
            entries.addLast(new Entry(null, null, null, 0, lsn, commitMillis));
        }
    }

    /**
     * Removes the confirmed events at the head (calling {@code confirmed} for each) and the marks they
     * cleared, advancing {@link #confirmable()}. Without {@link Refusals}, an event refused for good
     * fails the drain like any other failure.
     *
     * @throws SendFailed when the oldest event failed, or is not confirmed after {@code timeoutNanos}:
     *                    what was confirmed before it stays confirmable, nothing after it is
     */
    public void drain(long timeoutNanos, Consumer<OutboundEvent> confirmed) {
        drain(timeoutNanos, confirmed, null);
    }

    /**
     * As {@link #drain(long, Consumer)}; an event at the head that the transport refused for good goes
     * to {@code refusals} and the window moves past it.
     */
    public void drain(long timeoutNanos, Consumer<OutboundEvent> confirmed, Refusals refusals) {
        while (!entries.isEmpty()) {
            Entry head = entries.peekFirst();
            if (head.isMark()) {
                confirmable = head.mark;
                entries.pollFirst();
                continue;
            }
            if (!head.sent.isDone()) {
                if (System.nanoTime() - head.queuedNanos >= timeoutNanos) {
                    throw new SendFailed(head.event, "the transport did not confirm event " + describe(head.event)
                            + " within " + timeoutNanos / 1_000_000 + " ms", null);
                }
                return;
            }
            boolean refused = false;
            if (head.sent.isCompletedExceptionally()) {
                Throwable cause = causeOf(head.sent);
                if (refusals == null || !isPermanent(cause)) {
                    throw new SendFailed(head.event, "the transport refused event " + describe(head.event) + ": " + cause,
                            cause);
                }
                try {
                    refusals.refused(head.event, cause);
                } catch (RuntimeException e) {
                    throw new SendFailed(head.event, "the transport refused event " + describe(head.event) + " for good ("
                            + cause.getMessage() + ") and keeping it as a relay dead letter failed: " + e.getMessage(), e);
                }
                refused = true;
            }
            entries.pollFirst();
            events--;
            if (lastOfKey.get(head.key) == head.sent) {
                lastOfKey.remove(head.key);
            }
            if (!refused) {
                confirmed.accept(head.event);
            }
        }
    }

    private static Throwable causeOf(CompletableFuture<Void> failed) {
        try {
            failed.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    private static String describe(OutboundEvent e) {
        return e.envelope().getId() + " (subject " + e.envelope().getSubject() + ", position " + e.envelope().getPosition() + ")";
    }

    /** The highest position the slot may be confirmed to now. */
    public long confirmable() {
        return confirmable;
    }

    /** When the oldest transaction in the window committed; 0 when the window is empty. */
    public long oldestPendingMillis() {
        Entry head = entries.peekFirst();
        return head == null ? 0 : head.millis;
    }

    /** Events queued and not yet confirmed. */
    public int events() {
        return events;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }
}
