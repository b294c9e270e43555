package io.eventsync.cli.internal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Where the command's logs go. By default warnings and errors go to stderr; the demo sends
 * everything from INFO to a file in its data directory so the terminal shows only the progress and
 * the report. Configured here, once, at start; nothing else reads logging settings.
 */
public final class Logging {
    private static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{30} - %msg%n";
    private static volatile boolean verbose;

    private Logging() {}

    public static void configureDefault() {
        LoggerContext context = context();
        context.reset();
        ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("stderr");
        console.setTarget("System.err");
        console.setEncoder(encoder(context));
        console.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(console);
        root.setLevel(Level.WARN);
        quietLibraries(context);
    }

    /** Everything at INFO (DEBUG when verbose) to {@code file}; only errors on stderr. */
    public static void toFile(Path file) {
        LoggerContext context = context();
        FileAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("file");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setEncoder(encoder(context));
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.Appender<ch.qos.logback.classic.spi.ILoggingEvent> console = root.getAppender("stderr");
        if (console != null) {
            ch.qos.logback.classic.filter.ThresholdFilter errorsOnly = new ch.qos.logback.classic.filter.ThresholdFilter();
            errorsOnly.setLevel(verbose ? "WARN" : "ERROR");
            errorsOnly.start();
            console.addFilter(errorsOnly);
        }
        root.addAppender(appender);
        root.setLevel(verbose ? Level.DEBUG : Level.INFO);
        quietLibraries(context);
    }

    public static void setVerbose(boolean on) {
        verbose = on;
        if (on) {
            context().getLogger("io.eventsync").setLevel(Level.DEBUG);
        }
    }

    /** Long-running commands log their lifecycle at INFO on stderr. */
    public static void info() {
        Logger root = context().getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(verbose ? Level.DEBUG : Level.INFO);
        quietLibraries(context());
    }

    /** Stops logging cleanly (flushes appenders); for the shutdown hook, before the JVM halts. */
    public static void flush() {
        context().stop();
    }

    public static boolean verbose() {
        return verbose;
    }

    private static void quietLibraries(LoggerContext context) {
        context.getLogger("org.apache.kafka").setLevel(Level.WARN);
        context.getLogger("kafka").setLevel(Level.WARN);
        context.getLogger("org.apache.zookeeper").setLevel(Level.WARN);
        context.getLogger("com.zaxxer.hikari").setLevel(Level.WARN);
        context.getLogger("h2database").setLevel(Level.WARN);
    }

    private static PatternLayoutEncoder encoder(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();
        return encoder;
    }

    private static LoggerContext context() {
        return (LoggerContext) LoggerFactory.getILoggerFactory();
    }
}
