package io.eventsync.cli.internal;

import java.io.PrintWriter;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A one-line progress display, redrawn a few times a second, only when the command runs on a
 * terminal ({@link System#console()} is not null). When the output is piped or redirected it does
 * nothing, so logs and {@code --json} stay clean.
 */
public final class Progress implements AutoCloseable {
    private final PrintWriter out;
    private final Supplier<String> line;
    private final ScheduledExecutorService ticker;
    private int lastLength;

    private Progress(PrintWriter out, Supplier<String> line) {
        this.out = out;
        this.line = line;
        this.ticker = out == null ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "eventsync-progress");
            t.setDaemon(true);
            return t;
        });
        if (ticker != null) {
            ticker.scheduleAtFixedRate(this::draw, 0, 200, TimeUnit.MILLISECONDS);
        }
    }

    /** Starts drawing {@code line} if stdout is a terminal; otherwise returns an inert display. */
    public static Progress onTerminal(Supplier<String> line) {
        java.io.Console console = System.console();
        return new Progress(console == null ? null : console.writer(), line);
    }

    /** A bar of {@code width} cells filled to {@code fraction} (0..1). */
    public static String bar(double fraction, int width) {
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
        return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
    }

    private synchronized void draw() {
        String text;
        try {
            text = line.get();
        } catch (RuntimeException e) {
            return; // a display must never take the run down; the next tick tries again
        }
        int pad = Math.max(0, lastLength - text.length());
        out.print("\r" + text + " ".repeat(pad));
        out.flush();
        lastLength = text.length();
    }

    /** Stops drawing and clears the line. */
    @Override
    public synchronized void close() {
        if (ticker == null) {
            return;
        }
        ticker.shutdownNow();
        out.print("\r" + " ".repeat(lastLength) + "\r");
        out.flush();
    }
}
