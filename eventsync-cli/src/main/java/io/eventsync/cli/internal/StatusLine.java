package io.eventsync.cli.internal;

import io.eventsync.dispatch.CopyFreshness;
import io.eventsync.dispatch.CopyLag;
import io.eventsync.dispatch.Dispatcher;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code eventsync run}'s status every 5 s: events applied, their rate, freshness per source, lag and dead
 * letters; printed as a line on a terminal, logged at INFO otherwise (a log collector reads lines, not
 * a console). Its thread {@code eventsync-status} is owned by the line: {@link #close} ends it (run's
 * shutdown closes it before the pipeline, so no line reads a dispatcher being closed).
 */
public final class StatusLine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusLine.class);
    private static final long PERIOD_SECONDS = 5;

    private final Dispatcher dispatcher;
    private final MeterRegistry meters;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "eventsync-status");
        t.setDaemon(true); // never holds the JVM up, should a caller forget close
        return t;
    });
    private double lastApplied;

    StatusLine(Dispatcher dispatcher, MeterRegistry meters) {
        this.dispatcher = dispatcher;
        this.meters = meters;
    }

    /** Starts printing (or logging) a line every 5 s; close the result to stop. */
    public static StatusLine start(Dispatcher dispatcher, MeterRegistry meters, boolean terminal) {
        StatusLine line = new StatusLine(dispatcher, meters);
        line.timer.scheduleAtFixedRate(() -> {
            try {
                String text = line.next();
                if (terminal) {
                    System.out.println(text);
                } else {
                    log.info(text);
                }
            } catch (RuntimeException e) {
                log.debug("status line failed: {}", e.toString());
            }
        }, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
        return line;
    }

    /** Stops the line; a line being printed finishes. */
    @Override
    public void close() {
        timer.shutdownNow();
    }

    /**
     * The status now, e.g. {@code orders-copy: applied 1200 (240.0/s), freshness orders 0.41 s, lag 12, dead letters 0}:
     * the lag in events not yet applied, with {@code in flight} after it when the transport cannot tell what
     * waits at the broker (only what this consumer holds is counted then).
     */
    String next() {
        String subscription = dispatcher.subscription();
        double applied = sum("eventsync.dispatcher.applied", subscription);
        double rate = (applied - lastApplied) / PERIOD_SECONDS;
        lastApplied = applied;
        String freshness = dispatcher.freshness().values().stream()
                .map(f -> f.source() + " " + seconds(f))
                .collect(Collectors.joining(", "));
        CopyLag lag = dispatcher.lag();
        return String.format(Locale.ROOT, "%s: applied %.0f (%.1f/s), freshness %s, lag %d%s, dead letters %.0f",
                subscription, applied, rate, freshness.isEmpty() ? "unknown (no heartbeat yet)" : freshness,
                lag.events(), lag.fromTransport() ? "" : " in flight", sum("eventsync.dispatcher.dead_lettered", subscription));
    }

    private double sum(String counter, String subscription) {
        return meters.find(counter).tag("subscription", subscription).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private static String seconds(CopyFreshness f) {
        return String.format(Locale.ROOT, "%.2f s", f.freshness().toMillis() / 1000.0);
    }
}
