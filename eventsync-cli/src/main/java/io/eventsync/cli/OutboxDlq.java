package io.eventsync.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.ConfigException;
import io.eventsync.cli.internal.Json;
import io.eventsync.cli.pipeline.Pipeline;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.jdbc.OutboxDeadLetter;
import io.eventsync.jdbc.OutboxDeadLetters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import picocli.CommandLine.Option;

/**
 * {@code eventsync dlq ... --outbox SOURCE}: the relay dead letters of an outbox, in the source's
 * database. Replay and discard need no handlers (the relay sends the row again, or the key's waiting
 * rows), so they work with {@code --jdbc-url} alone, and while the relay runs.
 */
final class OutboxDlq {
    private OutboxDlq() {}

    /** The option that switches a dlq subcommand to the source side. */
    static final class OutboxOption {
        @Option(names = "--outbox", paramLabel = "SOURCE",
                description = "Relay dead letters of this outbox (the source side: rows no transport takes) instead of"
                        + " a consumer group's; the database is --jdbc-url or the pipeline file's relay section.")
        String source;

        boolean given() {
            return source != null;
        }
    }

    static int list(DatabaseOptions db, String source, boolean json) {
        try (HikariDataSource ds = Pipeline.openPool("dlq", db.sourceDatabase())) {
            List<OutboxDeadLetter> letters = store(ds, db).list(source);
            if (json) {
                List<Object> out = new ArrayList<>();
                letters.forEach(l -> out.add(summary(l)));
                System.out.println(Json.write(out));
            } else if (letters.isEmpty()) {
                System.out.println("no relay dead letters in outbox " + source);
            } else {
                System.out.printf("%-12s %-24s %-32s %8s  %s%n", "id", "key", "type", "attempts", "reason");
                for (OutboxDeadLetter l : letters) {
                    System.out.printf("%-12d %-24s %-32s %8d  %s%n", l.id(), l.key(), l.type(), l.attempts(),
                            DlqCommand.oneLine(l.reason(), 100));
                }
                System.out.printf("%d relay dead letter(s), each parks its key: the key's later events wait in the"
                        + " outbox%n", letters.size());
            }
            return Main.OK;
        }
    }

    static int show(DatabaseOptions db, String source, String id, BiFunction<byte[], TypeRegistry, Object> event) {
        try (HikariDataSource ds = Pipeline.openPool("dlq", db.sourceDatabase())) {
            OutboxDeadLetter letter = store(ds, db).get(source, parse(id))
                    .orElseThrow(() -> new ConfigException("outbox " + source + " has no relay dead letter " + id));
            Map<String, Object> out = summary(letter);
            out.put("bytes", letter.bytes().length);
            out.put("event", event.apply(letter.bytes(), db.config == null ? null : db.pipeline().types()));
            System.out.println(Json.write(out));
            return Main.OK;
        }
    }

    static int release(DatabaseOptions db, String source, String id, boolean replay) {
        long position = parse(id);
        try (HikariDataSource ds = Pipeline.openPool("dlq", db.sourceDatabase())) {
            OutboxDeadLetters letters = store(ds, db);
            if (replay) {
                letters.replay(source, position);
                System.out.println("replayed relay dead letter " + id + " of outbox " + source
                        + ": it is back at the front of its key; the relay sends it, then the key's waiting events"
                        + " (if the transport refuses it again, it is a dead letter again: eventsync dlq list --outbox "
                        + source + ")");
            } else {
                letters.discard(source, position);
                System.out.println("discarded relay dead letter " + id + " of outbox " + source
                        + ": its event is never sent; the relay sends the key's waiting events in order");
            }
            return Main.OK;
        }
    }

    private static long parse(String id) {
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new ConfigException("a relay dead letter's id is its outbox position, a number (see dlq list --outbox),"
                    + " but was: " + id);
        }
    }

    private static OutboxDeadLetters store(HikariDataSource ds, DatabaseOptions db) {
        return OutboxDeadLetters.create(ds, Pipeline.names(db.sourceDatabase()));
    }

    private static Map<String, Object> summary(OutboxDeadLetter l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", l.id());
        m.put("outbox", l.source());
        m.put("event_id", l.eventId());
        m.put("key", l.key());
        m.put("type", l.type());
        m.put("sequence", l.sequence());
        m.put("reason", l.reason());
        m.put("attempts", l.attempts());
        m.put("first_failure", l.firstFailure().toString());
        m.put("last_failure", l.lastFailure().toString());
        return m;
    }
}
