package io.eventsync.cli.demo;

import io.eventsync.EventsyncException;
import io.eventsync.handler.EventContext;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Injects the handler faults of a {@link FaultPlan}. Whether an event gets a fault is decided from
 * its id and the subscription, so it is reproducible; faults hit only the first attempt, so every
 * valid event is applied in the end and the copies must still match their source.
 */
final class Faults {
    private final FaultPlan plan;
    private final Duration timeout;
    private final Duration grace;
    final AtomicLong handlerErrors = new AtomicLong();
    final AtomicLong hangs = new AtomicLong();
    final AtomicLong abandons = new AtomicLong();

    Faults(FaultPlan plan, Duration timeout, Duration grace) {
        this.plan = plan;
        this.timeout = timeout;
        this.grace = grace;
    }

    void beforeHandler(EventContext context) throws InterruptedException {
        if (context.attempt() != 1 || !plan.any()) {
            return;
        }
        double roll = roll(context.envelope().getId(), context.subscription());
        double at = plan.handlerError();
        if (roll < at) {
            handlerErrors.incrementAndGet();
            throw new EventsyncException("injected fault: handler error (transient) for event "
                    + context.envelope().getId());
        }
        if (roll < (at += plan.hang())) {
            hangs.incrementAndGet();
            // Hangs past the timeout, but stops as soon as it is cancelled (interrupted).
            Thread.sleep(timeout.multipliedBy(20).toMillis());
            return;
        }
        if (roll < at + plan.abandon()) {
            abandons.incrementAndGet();
            ignoreCancellationFor(timeout.plus(grace).plus(grace).plusMillis(200));
        }
    }

    /** Behaves like a handler stuck in code that swallows interrupts: a zombie the dispatcher must abandon. */
    private static void ignoreCancellationFor(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        boolean interrupted = false;
        while (System.nanoTime() < until) {
            try {
                Thread.sleep(Math.max(1, (until - System.nanoTime()) / 1_000_000));
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A uniform number in [0, 1) from the event id and subscription (reproducible per event). */
    static double roll(String eventId, String subscription) {
        long h = 1125899906842597L;
        for (int i = 0; i < eventId.length(); i++) {
            h = 31 * h + eventId.charAt(i);
        }
        for (int i = 0; i < subscription.length(); i++) {
            h = 31 * h + subscription.charAt(i);
        }
        h ^= (h >>> 33);
        h *= 0xff51afd7ed558ccdL;
        h ^= (h >>> 33);
        h *= 0xc4ceb3f94fce5bf1L;
        h ^= (h >>> 33);
        return (h >>> 11) * 0x1.0p-53;
    }
}
