package io.eventsync.cli;

import io.eventsync.ConfigException;
import io.eventsync.cli.internal.Logging;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code eventsync} command. Exit codes: 0 success, 1 failure at run time, 2 bad usage or
 * configuration (nothing was touched).
 */
@Command(name = "eventsync",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Keeps data consistent across services that each own their database.%n"
                + "Start with: eventsync demo",
        subcommands = {
                DemoCommand.class,
                RunCommand.class,
                DlqCommand.class,
                OffsetsCommand.class,
                StatusCommand.class,
                VerifyCommand.class,
                SchemaCommand.class,
                CommandLine.HelpCommand.class
        },
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure at run time", "2:bad usage or configuration"})
public final class Main implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_CONFIG = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        Logging.configureDefault();
        CommandLine cli = commandLine();
        return cli.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(Main::onException);
        cli.setParameterExceptionHandler(Main::onBadUsage);
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static int onBadUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        PrintWriter err = cli.getErr();
        err.println(cli.getColorScheme().errorText(e.getMessage()));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cli.getCommandSpec().qualifiedName() + " --help' for the options.");
        return BAD_CONFIG;
    }

    private static int onException(Exception e, CommandLine cli, CommandLine.ParseResult parsed) {
        PrintWriter err = cli.getErr();
        if (e instanceof ConfigException || e instanceof CommandLine.ParameterException) {
            err.println(cli.getColorScheme().errorText("configuration error: " + e.getMessage()));
            return BAD_CONFIG;
        }
        err.println(cli.getColorScheme().errorText("eventsync " + cli.getCommandName() + " failed: " + describe(e)));
        if (Logging.verbose()) {
            e.printStackTrace(err);
        } else {
            err.println("(run with --verbose for the stack trace)");
        }
        return FAILED;
    }

    private static String describe(Throwable e) {
        StringBuilder message = new StringBuilder(String.valueOf(e.getMessage() == null ? e : e.getMessage()));
        for (Throwable cause = e.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            message.append("; caused by ").append(cause.getMessage() == null ? cause : cause.getMessage());
        }
        return message.toString();
    }

    /** The version from the jar manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getPackage().getImplementationVersion();
            return new String[] {"eventsync " + (version == null ? "0.1.0-SNAPSHOT" : version)};
        }
    }
}
