package io.eventsync.cli.demo;

import io.eventsync.dispatch.ApplyScope;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.Invocation;
import io.eventsync.handler.Outcome;
import io.eventsync.verify.FreshnessHistogram;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Wraps a copy's apply scope to measure it: when the copy's transaction has committed (the delegate
 * returned), the freshness of the event is the time since its source transaction committed. Counts
 * each event once (the inbox makes a second delivery a "duplicate" skip), and wakes whoever waits
 * for the copy to catch up.
 */
final class MeasuredScope implements ApplyScope {
    private final ApplyScope delegate;
    private final Function<String, Long> sourceCommitNanos;
    private final Runnable onProgress;
    final FreshnessHistogram freshness = new FreshnessHistogram();
    final Set<String> done = ConcurrentHashMap.newKeySet();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong retries = new AtomicLong();

    MeasuredScope(ApplyScope delegate, Function<String, Long> sourceCommitNanos, Runnable onProgress) {
        this.delegate = delegate;
        this.sourceCommitNanos = sourceCommitNanos;
        this.onProgress = onProgress;
    }

    @Override
    public boolean refusesParkedKeys(DeadLetterStore deadLetters) {
        return delegate.refusesParkedKeys(deadLetters);
    }

    @Override
    public Outcome apply(Invocation invocation) throws Exception {
        if (invocation.attempt() > 1) {
            retries.incrementAndGet();
        }
        Outcome outcome = delegate.apply(invocation);
        long now = System.nanoTime();
        String id = invocation.envelope().getId();
        if (outcome instanceof Outcome.Skipped skipped && skipped.reason().startsWith("duplicate")) {
            duplicates.incrementAndGet();
        } else if ((outcome instanceof Outcome.Applied || outcome instanceof Outcome.Skipped) && done.add(id)) {
            Long committed = sourceCommitNanos.apply(id);
            if (committed != null) {
                freshness.recordNanos(now - committed);
            }
            onProgress.run();
        }
        return outcome;
    }
}
