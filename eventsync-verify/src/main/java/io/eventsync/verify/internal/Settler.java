package io.eventsync.verify.internal;

import io.eventsync.Position;
import io.eventsync.verify.KeyDifference;
import io.eventsync.verify.LiveCheck;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Re-checks candidate differences before any is reported, so that a change in flight is not taken for
 * a divergence: each key's rows are read again on both sides, after the copy has applied the key's
 * events still waiting in the source's outbox ({@link LiveCheck}). What then still differs is
 * confirmed; what cannot be decided yet (a copy row of a lower version, a row missing on one side)
 * waits, and is read again until it settles or its time is up.
 *
 * <p>Waiting candidates are kept aside (at most {@link #MAX_WAITING}) while the diff goes on, so a
 * few slow keys cost one timeout in total, not one per range.
 */
final class Settler {
    static final int MAX_WAITING = 1_000;
    private static final int KEYS_PER_READ = 200;

    /** Where a confirmed difference goes (the findings, and the repair). */
    @FunctionalInterface
    interface Sink {
        void confirmed(KeyDifference.Kind kind, Candidate candidate) throws SQLException;
    }

    private enum Verdict { EQUAL, CONFIRMED, WAIT }

    private final Side source;
    private final Side copy;
    private final LiveCheck live;
    private final boolean versions;
    private final Findings findings;
    private final Sink sink;
    private final List<Candidate> waiting = new ArrayList<>();

    Settler(Side source, Side copy, LiveCheck live, boolean versions, Findings findings, Sink sink) {
        this.source = source;
        this.copy = copy;
        this.live = live;
        this.versions = versions;
        this.findings = findings;
        this.sink = sink;
    }

    /** Re-checks what a range comparison found; keeps what must wait. */
    void offer(List<Candidate> found) throws SQLException, InterruptedException {
        for (int from = 0; from < found.size(); from += KEYS_PER_READ) {
            waiting.addAll(round(found.subList(from, Math.min(found.size(), from + KEYS_PER_READ)), false));
        }
        if (waiting.size() >= MAX_WAITING) {
            drain();
        }
    }

    /** Settles every waiting candidate: re-read with backoff until each settles or times out. */
    void drain() throws SQLException, InterruptedException {
        long pauseMillis = 2;
        while (!waiting.isEmpty()) {
            List<Candidate> still = new ArrayList<>();
            for (int from = 0; from < waiting.size(); from += KEYS_PER_READ) {
                still.addAll(round(waiting.subList(from, Math.min(waiting.size(), from + KEYS_PER_READ)), true));
            }
            waiting.clear();
            waiting.addAll(still);
            if (!waiting.isEmpty()) {
                // An event already relayed but not applied gives no signal to wait on (its position left the
                // outbox); the copy's row is read again shortly.
                TimeUnit.MILLISECONDS.sleep(pauseMillis);
                pauseMillis = Math.min(pauseMillis * 2, 200);
            }
        }
    }

    /**
     * One re-read of {@code batch}; returns the candidates that must wait (none once they time out).
     *
     * <p>Live, the source is read before and after the copy: a key that moved on while the copy caught
     * up is equal when the copy matches the source's newer row, which a single read would miss.
     */
    private List<Candidate> round(List<Candidate> batch, boolean mayExpire) throws SQLException, InterruptedException {
        List<Object> keys = new ArrayList<>(batch.size());
        batch.forEach(c -> keys.add(c.anyKey()));
        Map<String, Row> before = byKey(source.rowsOfKeys(keys));
        Map<String, Boolean> hadPending = awaitPending(batch);
        Map<String, Row> copyRows = byKey(copy.rowsOfKeys(keys));
        Map<String, Row> after = live == null ? before : byKey(source.rowsOfKeys(keys));
        List<Candidate> wait = new ArrayList<>();
        for (Candidate old : batch) {
            String key = old.keyText();
            Row c = copyRows.get(key);
            Verdict verdict;
            if (same(before.get(key), c) || same(after.get(key), c)) {
                verdict = Verdict.EQUAL;
            } else {
                verdict = verdict(after.get(key), c, hadPending.getOrDefault(key, false));
                if (verdict == Verdict.WAIT && mayExpire && expired(old)) {
                    verdict = Verdict.CONFIRMED;
                }
            }
            Candidate now = old.reread(after.get(key), c);
            switch (verdict) {
                case EQUAL -> findings.inFlight();
                case CONFIRMED -> sink.confirmed(kind(now), now);
                case WAIT -> wait.add(now);
            }
        }
        return wait;
    }

    private static boolean same(Row s, Row c) {
        return s == null ? c == null : c != null && s.hash() == c.hash() && s.values().equals(c.values());
    }

    /** For rows that differ: confirmed, or wait for the copy to catch up. */
    private Verdict verdict(Row s, Row c, boolean hadPending) {
        if (live == null) {
            return Verdict.CONFIRMED;
        }
        if (hadPending) {
            return Verdict.WAIT; // the copy applied the key's pending events just now: read again
        }
        if (!versions) {
            return Verdict.CONFIRMED;
        }
        if (s != null && c != null && s.version() != null && s.version().equals(c.version())) {
            return Verdict.CONFIRMED; // the same version with other values: changed behind eventsync's back
        }
        return Verdict.WAIT; // a lower version, or a row still to be created or deleted by an event in flight
    }

    /**
     * For each key with events still in the source's outbox: waits until the copy has applied the
     * latest of them, at most until the candidate's time is up.
     */
    private Map<String, Boolean> awaitPending(List<Candidate> batch) throws InterruptedException {
        Map<String, Boolean> pending = new HashMap<>();
        if (live == null || live.outbox() == null) {
            return pending;
        }
        for (Candidate c : batch) {
            Optional<Position> position = live.outbox().pendingPosition(source.connection(), c.keyText());
            if (position.isPresent()) {
                pending.put(c.keyText(), true);
                long left = c.foundNanos() + live.timeout().toNanos() - System.nanoTime();
                if (left > 0) {
                    live.inbox().awaitApplied(position.get(), live.subscription(), Duration.ofNanos(left));
                }
            }
        }
        return pending;
    }

    private boolean expired(Candidate c) {
        return System.nanoTime() - c.foundNanos() >= live.timeout().toNanos();
    }

    private static KeyDifference.Kind kind(Candidate c) {
        if (c.copy() == null) {
            return KeyDifference.Kind.MISSING_IN_COPY;
        }
        return c.source() == null ? KeyDifference.Kind.EXTRA_IN_COPY : KeyDifference.Kind.VALUES_DIFFER;
    }

    private static Map<String, Row> byKey(List<Row> rows) {
        Map<String, Row> map = new LinkedHashMap<>();
        rows.forEach(r -> map.put(r.keyText(), r));
        return map;
    }
}
