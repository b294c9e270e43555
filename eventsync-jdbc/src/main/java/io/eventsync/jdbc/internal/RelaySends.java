package io.eventsync.jdbc.internal;

import io.eventsync.EventsyncException;
import io.eventsync.PermanentException;
import io.eventsync.transport.Publisher;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * The relay's sends and what became of each. Keys go out in parallel, but a key's rows go one after
 * another: a row is sent only once the previous row of its key is confirmed. Sent all at once, a
 * failed earlier row (a log transaction that rolled back, a broker error) could leave a later row of
 * the key published before it, and consumers would see K2, K1, K2. If the earlier row failed, the
 * later ones are not sent at all.
 *
 * <p>A batch's sends are waited for up to the send timeout, except probes: the sends of a key that
 * failed before. A probe is not waited for (a transport that still hangs on that key must not hold
 * back every other key once more); it stays in flight, its key is left out of the next reads, and its
 * outcome is collected by a later {@link #settle}. Owned by the relay thread.
 */
public final class RelaySends {

    public enum Outcome {
        /** The transport confirmed it: the row may be deleted. */
        CONFIRMED,
        /** Failed, and may succeed later: the key backs off, the row stays. */
        FAILED,
        /** No transport will ever take it: the row goes to the relay dead letters, its key parks. */
        REFUSED,
        /** Not sent because an earlier row of its key failed: stays, goes after that one. */
        NOT_SENT
    }

    /** What became of one row's send; {@code error} is the failure or the refusal's reason. */
    public record Result(OutboxBatch.Row row, Outcome outcome, String error) {}

    private final Publisher publisher;
    private final long timeoutNanos;
    private List<Sent> inFlight = new ArrayList<>();

    private record Sent(OutboxBatch.Row row, CompletableFuture<Void> future, long sentNanos, boolean probe, Chain chain) {}

    /** One key's rows of one batch; abandoned once the relay gave up on an earlier row. */
    private static final class Chain {
        volatile boolean abandoned;
    }

    public RelaySends(Publisher publisher, long timeoutNanos) {
        this.publisher = publisher;
        this.timeoutNanos = timeoutNanos;
    }

    /** Sends {@code rows} (in publish order); rows of keys for which {@code probe} holds are probes. */
    public void send(List<OutboxBatch.Row> rows, Predicate<String> probe, long nowNanos) {
        Map<String, CompletableFuture<Void>> lastOfKey = new HashMap<>();
        Map<String, Chain> chains = new HashMap<>();
        for (OutboxBatch.Row row : rows) {
            String key = row.key();
            Chain chain = chains.computeIfAbsent(key, k -> new Chain());
            CompletableFuture<Void> previous = lastOfKey.get(key);
            CompletableFuture<Void> sent = previous == null
                    ? start(row)
                    : previous.handle((ok, failure) -> failure).thenCompose(failure -> failure == null && !chain.abandoned
                            ? start(row)
                            : CompletableFuture.failedFuture(new NotSent(key, failure)));
            lastOfKey.put(key, sent);
            inFlight.add(new Sent(row, sent, nowNanos, probe.test(key), chain));
        }
    }

    private CompletableFuture<Void> start(OutboxBatch.Row row) {
        if (row.refused()) {
            return CompletableFuture.failedFuture(new Refusal(row.refusal()));
        }
        try {
            return publisher.send(row.event());
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Collects the outcomes, in publish order: waits for each send that is not a probe until its
     * timeout; a probe that is not done stays in flight (until its own timeout), and so do the later
     * rows of its key.
     */
    public List<Result> settle() throws InterruptedException {
        List<Result> results = new ArrayList<>(inFlight.size());
        List<Sent> still = new ArrayList<>();
        Set<String> failedKeys = new HashSet<>();
        Set<String> waitingKeys = new HashSet<>();
        for (Sent s : inFlight) {
            String key = s.row().key();
            if (failedKeys.contains(key)) {
                s.chain().abandoned = true;
                results.add(new Result(s.row(), Outcome.NOT_SENT, "an earlier event of key " + key + " failed"));
                continue;
            }
            if (waitingKeys.contains(key)) {
                still.add(s);
                continue;
            }
            Result r = outcome(s);
            if (r == null) {
                waitingKeys.add(key);
                still.add(s);
                continue;
            }
            if (r.outcome() != Outcome.CONFIRMED) {
                failedKeys.add(key);
                s.chain().abandoned = true;
            }
            results.add(r);
        }
        inFlight = still;
        return results;
    }

    /** The outcome of one send, or null when it is a probe still in flight. */
    private Result outcome(Sent s) throws InterruptedException {
        long left = s.sentNanos() + timeoutNanos - System.nanoTime();
        try {
            if (s.probe() && !s.future().isDone()) {
                if (left > 0) {
                    return null;
                }
                throw new TimeoutException();
            }
            s.future().get(Math.max(0, left), TimeUnit.NANOSECONDS);
            return new Result(s.row(), Outcome.CONFIRMED, null);
        } catch (TimeoutException e) {
            return new Result(s.row(), Outcome.FAILED, "no confirmation from the transport within the send timeout of "
                    + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms");
        } catch (ExecutionException e) {
            return classify(s.row(), e.getCause());
        }
    }

    private static Result classify(OutboxBatch.Row row, Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof NotSent) {
            return new Result(row, Outcome.NOT_SENT, cause.getMessage());
        }
        if (cause instanceof Refusal refusal) {
            return new Result(row, Outcome.REFUSED, refusal.getMessage());
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PermanentException) {
                return new Result(row, Outcome.REFUSED, "rejected: the transport refused event " + row.eventId()
                        + " for good: " + t.getMessage());
            }
        }
        return new Result(row, Outcome.FAILED, String.valueOf(cause));
    }

    /** Keys with a send still in flight: left out of the next reads. */
    public Set<String> keysInFlight() {
        if (inFlight.isEmpty()) {
            return Set.of();
        }
        Set<String> keys = new HashSet<>();
        for (Sent s : inFlight) {
            keys.add(s.row().key());
        }
        return keys;
    }

    public boolean hasInFlight() {
        return !inFlight.isEmpty();
    }

    /** A row the relay refused before sending it (too large, undecodable): its message is the whole reason. */
    private static final class Refusal extends PermanentException {
        Refusal(String reason) {
            super(reason);
        }
    }

    /** A row not sent because an earlier row of its key failed. */
    private static final class NotSent extends EventsyncException {
        NotSent(String key, Throwable earlier) {
            super("not sent: an earlier event of key " + key + " in the same batch failed", earlier);
        }
    }
}
