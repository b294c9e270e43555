package io.eventsync.cli;

import com.google.protobuf.util.JsonFormat;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.DecodeException;
import io.eventsync.cli.internal.Json;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dlq", mixinStandardHelpOptions = true,
        header = "Dead letters: list, show, replay, discard.",
        description = "Dead letters of a consumer group: events that could not be applied (FAILED) and the later"
                + " events of the same key held behind them (HELD). With --outbox SOURCE: the relay dead letters of"
                + " an outbox, rows no transport takes, whose key's later events wait in the outbox.",
        subcommands = {DlqCommand.ListLetters.class, DlqCommand.Show.class, DlqCommand.Replay.class,
                DlqCommand.Discard.class})
final class DlqCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the group's dead letters, oldest first.")
    static final class ListLetters implements Callable<Integer> {
        @Mixin
        DatabaseOptions db;

        @Mixin
        OutboxDlq.OutboxOption outbox;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Option(names = "--wide", description = "Whole reasons, wrapped in their column (default: cut at "
                + REASON_WIDTH + " characters).")
        boolean wide;

        @Override
        public Integer call() {
            if (outbox.given()) {
                return OutboxDlq.list(db, outbox.source, json);
            }
            try (HikariDataSource ds = Pipeline.openPool("dlq", db.database())) {
                List<DeadLetter> letters = store(ds, db).list(db.group());
                if (json) {
                    List<Object> out = new ArrayList<>();
                    letters.forEach(l -> out.add(summary(l)));
                    System.out.println(Json.write(out));
                } else if (letters.isEmpty()) {
                    System.out.println("no dead letters in group " + db.group());
                } else {
                    System.out.printf(ROW + "%s%n", "id", "kind", "key", "type", "attempts", "reason");
                    for (DeadLetter l : letters) {
                        String row = String.format(ROW, l.id(), l.kind(), l.key(), l.type(), l.attempts());
                        if (!wide) {
                            System.out.println(row + oneLine(l.reason(), REASON_WIDTH));
                            continue;
                        }
                        // Continuation lines start under the reason column, wherever the row's own text ended.
                        String indent = " ".repeat(String.format(ROW, "", "", "", "", "").length());
                        List<String> lines = wrap(l.reason(), REASON_WIDTH);
                        System.out.println(row + lines.get(0));
                        lines.subList(1, lines.size()).forEach(line -> System.out.println(indent + line));
                    }
                    System.out.printf("%d dead letter(s), %d parked key(s)%n", letters.size(),
                            letters.stream().map(DeadLetter::key).distinct().count());
                }
                return Main.OK;
            }
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Shows one dead letter: why it failed, every error, and the event (its payload as JSON"
                    + " when --config gives the payload types).")
    static final class Show implements Callable<Integer> {
        @Mixin
        DatabaseOptions db;

        @Mixin
        OutboxDlq.OutboxOption outbox;

        @Parameters(paramLabel = "ID", description = "The dead letter's id (see dlq list).")
        String id;

        @Override
        public Integer call() throws Exception {
            if (outbox.given()) {
                return OutboxDlq.show(db, outbox.source, id, DlqCommand::event);
            }
            try (HikariDataSource ds = Pipeline.openPool("dlq", db.database())) {
                DeadLetter letter = store(ds, db).get(id)
                        .orElseThrow(() -> new ConfigException("no dead letter with id " + id));
                Map<String, Object> out = summary(letter);
                out.put("error_chain", letter.errorChain());
                out.put("event", event(letter.bytes(), db.config == null ? null : db.pipeline().types()));
                System.out.println(Json.write(out));
                return Main.OK;
            }
        }
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = "Applies a FAILED dead letter again through the group's handlers (from --config); on"
                    + " success the key's held events follow in order. Run it while the group's pipeline is stopped."
                    + " With --outbox: moves the row back to the front of its key in the outbox; the relay (running or"
                    + " not) sends it again, then the key's waiting events.")
    static final class Replay extends Release {
        Replay() {
            super(true);
        }
    }

    @Command(name = "discard", mixinStandardHelpOptions = true,
            description = "Drops a FAILED dead letter; the key's held events are then applied in order through the"
                    + " group's handlers (from --config). Run it while the group's pipeline is stopped. With --outbox:"
                    + " drops the relay dead letter; the relay sends the key's waiting events in order.")
    static final class Discard extends Release {
        Discard() {
            super(false);
        }
    }

    /** Replay and discard: both release a FAILED dead letter's key, by applying the letter again or by dropping it. */
    abstract static class Release implements Callable<Integer> {
        private final boolean replay;

        @Mixin
        DatabaseOptions db;

        @Mixin
        OutboxDlq.OutboxOption outbox;

        @Parameters(paramLabel = "ID", description = "The FAILED dead letter's id (with --outbox: the relay dead letter's id).")
        String id;

        Release(boolean replay) {
            this.replay = replay;
        }

        @Override
        public Integer call() throws Exception {
            return outbox.given() ? OutboxDlq.release(db, outbox.source, id, replay) : release(db, id, replay);
        }
    }

    private static int release(DatabaseOptions db, String id, boolean replay) throws Exception {
        var config = db.pipeline();
        Deque<AutoCloseable> open = new ArrayDeque<>();
        try (HikariDataSource ds = Pipeline.openPool("dlq", db.database())) {
            Dispatcher dispatcher = Pipeline.dispatcher(config, ds, new SimpleMeterRegistry(), open);
            if (dispatcher.deadLetters().get(id).isEmpty()) {
                throw new ConfigException("no dead letter with id " + id + " in group " + dispatcher.subscription());
            }
            boolean clean;
            try {
                clean = (replay ? dispatcher.replay(id) : dispatcher.discard(id)).get(5, TimeUnit.MINUTES);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new ConfigException(e.getMessage());
            }
            String done = (replay ? "replayed " : "discarded ") + id;
            System.out.println(clean
                    ? done + "; its key has no dead letters left"
                    : done + ", but an event of its key failed again; see: eventsync dlq list");
            return clean ? Main.OK : Main.FAILED;
        } finally {
            while (!open.isEmpty()) {
                open.pop().close();
            }
        }
    }

    private static JdbcDeadLetters store(HikariDataSource ds, DatabaseOptions db) {
        return JdbcDeadLetters.create(ds, Pipeline.names(db.database()));
    }

    private static Map<String, Object> summary(DeadLetter l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", l.id());
        m.put("subscription", l.subscription());
        m.put("kind", l.kind());
        m.put("event_id", l.eventId());
        m.put("key", l.key());
        m.put("type", l.type());
        m.put("reason", l.reason());
        if (!l.origin().isEmpty()) {
            m.put("origin", l.origin()); // where the record came from: topic/partition/offset, queue, URL
        }
        m.put("attempts", l.attempts());
        m.put("first_failure", l.firstFailure().toString());
        m.put("last_failure", l.lastFailure().toString());
        return m;
    }

    static Object event(byte[] bytes, TypeRegistry types) {
        try {
            Envelope envelope = EnvelopeCodec.defaults().decode(bytes);
            JsonFormat.Printer printer = JsonFormat.printer();
            if (types != null) {
                printer = printer.usingTypeRegistry(types.protobufTypeRegistry());
            }
            try {
                return new Json.Raw(printer.print(envelope));
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                // The payload type is not known: print the envelope with the payload as bytes.
                return new Json.Raw(JsonFormat.printer().print(envelope.toBuilder().clearPayload()
                        .putAttributes("eventsync.payload_type_url", envelope.getPayload().getTypeUrl())));
            }
        } catch (DecodeException | com.google.protobuf.InvalidProtocolBufferException e) {
            return "undecodable (" + bytes.length + " bytes): " + e.getMessage();
        }
    }

    /** One letter's columns before its reason in {@code dlq list}. */
    private static final String ROW = "%-36s %-6s %-24s %-32s %8s  ";
    /** Characters of a reason per line of {@code dlq list}. */
    static final int REASON_WIDTH = 100;

    /**
     * A reason as lines of at most {@code width} characters, broken at spaces where it can be (and
     * inside a word longer than a line); its own line breaks are kept. Never empty.
     */
    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        for (String paragraph : text.split("\\R", -1)) {
            String rest = paragraph.strip();
            while (rest.length() > width) {
                int cut = rest.lastIndexOf(' ', width);
                if (cut <= 0) {
                    cut = width;
                }
                lines.add(rest.substring(0, cut).stripTrailing());
                rest = rest.substring(cut).stripLeading();
            }
            lines.add(rest);
        }
        return lines;
    }

    static String oneLine(String text, int max) {
        String line = text.replace('\n', ' ');
        return line.length() <= max ? line : line.substring(0, max - 3) + "...";
    }
}
