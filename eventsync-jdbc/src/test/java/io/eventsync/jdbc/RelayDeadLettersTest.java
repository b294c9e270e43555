package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import io.eventsync.ConfigException;
import io.eventsync.jdbc.TestEvents.RecordingPublisher;
import io.eventsync.v1.Envelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rows that no transport will take, written by a non-Java writer (plain SQL, no size check, any
 * bytes) or refused for good by the transport: they become relay dead letters, the rest of the
 * outbox flows, their keys' later rows wait in order until the letter is replayed or discarded.
 */
class RelayDeadLettersTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private static Relay relay(TestDatabase db, RecordingPublisher publisher) {
        return Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop").publisher(publisher)
                .leaseDuration(Duration.ofSeconds(1)).retryBackoff(Duration.ofMillis(20), Duration.ofMillis(200))
                .meterRegistry(new SimpleMeterRegistry()).build().start();
    }

    /** What a writer in another language does: one INSERT with the documented columns. */
    static long insertRaw(TestDatabase db, String eventId, String key, String type, long sequence, byte[] payload)
            throws Exception {
        String table = db.kind() == TestDatabase.Kind.MARIADB
                ? "`" + db.names().schema() + "`.`" + db.names().prefix() + "outbox`"
                : "\"" + db.names().schema() + "\".\"" + db.names().prefix() + "outbox\"";
        try (Connection c = db.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                     + " (source, event_id, subject, event_type, event_sequence, payload) VALUES ('shop', ?, ?, ?, ?, ?)",
                     new String[] {"id"})) {
            ps.setString(1, eventId);
            ps.setString(2, key);
            ps.setString(3, type);
            ps.setLong(4, sequence);
            ps.setBytes(5, payload);
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    static long insertRaw(TestDatabase db, Envelope e) throws Exception {
        return insertRaw(db, e.getId(), e.getSubject(), e.getType(), e.getSequence(), e.toByteArray());
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void oversizeAndUndecodableRowsBecomeRelayDeadLettersAndTheirKeysWaitUntilReleased(TestDatabase.Kind kind)
            throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher(); // announces 1 MiB
            Envelope big1 = TestEvents.event("shop", "big", 1).toBuilder()
                    .setPayload(Any.pack(StringValue.of("x".repeat(1_200_000)))).build();
            Envelope broken1 = TestEvents.event("shop", "broken", 1);
            byte[] whole = broken1.toByteArray();
            // Cut by the length of the stamp the relay would append (ids below 128 stamp in 2 bytes):
            // stamped, the row would decode, into something else.
            byte[] truncated = Arrays.copyOf(whole, whole.length - 2);
            long bigId = insertRaw(db, big1);
            long brokenId = insertRaw(db, broken1.getId(), "broken", broken1.getType(), 1, truncated);
            assertThat(brokenId).isLessThan(128);
            insertRaw(db, TestEvents.event("shop", "big", 2));
            insertRaw(db, TestEvents.event("shop", "broken", 2));
            insertRaw(db, TestEvents.event("shop", "fine", 1));
            OutboxDeadLetters letters = OutboxDeadLetters.create(db.dataSource(), db.names());

            try (Relay r = relay(db, publisher)) {
                await().atMost(DEADLINE).until(() -> letters.count("shop") == 2 && publisher.confirmed.size() == 1);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence()).containsExactly("fine#1");
                assertThat(db.count("outbox")).as("big#2 and broken#2 wait behind their letters").isEqualTo(2);

                List<OutboxDeadLetter> list = letters.list("shop");
                assertThat(list).extracting(OutboxDeadLetter::id).containsExactly(bigId, brokenId);
                OutboxDeadLetter big = list.get(0);
                assertThat(big.reason()).startsWith("oversize: event " + big1.getId() + " (key big, position " + bigId + ")")
                        .contains("limit of 1048576 bytes");
                assertThat(big.bytes()).isEqualTo(big1.toByteArray());
                assertThat(big.key()).isEqualTo("big");
                assertThat(big.eventId()).isEqualTo(big1.getId());
                assertThat(big.type()).isEqualTo("google.protobuf.StringValue");
                assertThat(big.attempts()).isEqualTo(1);
                assertThat(big.firstFailure()).isBeforeOrEqualTo(big.lastFailure());
                OutboxDeadLetter broken = list.get(1);
                assertThat(broken.reason()).startsWith("undecodable: outbox row " + brokenId);
                assertThat(broken.bytes()).isEqualTo(truncated);

                letters.discard("shop", brokenId);
                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 2);
                assertThat(publisher.confirmed.get(1).getSubject() + "#" + publisher.confirmed.get(1).getSequence())
                        .isEqualTo("broken#2");
            }
            // The operator raises the transport's limit, restarts the relay and replays: big#1 goes
            // first, then big#2.
            publisher.maxEventBytes(2 << 20);
            try (Relay r = relay(db, publisher)) {
                letters.replay("shop", bigId);
                await().atMost(DEADLINE).until(() -> db.count("outbox") == 0 && publisher.confirmed.size() == 4);
                assertThat(publisher.confirmed.subList(2, 4)).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("big#1", "big#2");
                assertThat(publisher.confirmed.get(2).getPosition()).as("replayed under its own id").isEqualTo(bigId);
                assertThat(letters.list("shop")).isEmpty();
                assertThat(publisher.confirmed).noneMatch(e -> e.getSubject().equals("broken") && e.getSequence() == 1);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TestDatabase.Kind.class)
    void eventTheTransportRefusesForGoodParksItsKeyAcrossARestartUntilReplayed(TestDatabase.Kind kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind)) {
            RecordingPublisher publisher = new RecordingPublisher()
                    .refusing(e -> e.getSubject().equals("k") && e.getSequence() == 1, "bad header value \u0000 \uD800 end");
            long k1 = insertRaw(db, TestEvents.event("shop", "k", 1));
            insertRaw(db, TestEvents.event("shop", "k", 2));
            insertRaw(db, TestEvents.event("shop", "other", 1));
            OutboxDeadLetters letters = OutboxDeadLetters.create(db.dataSource(), db.names());
            try (Relay r = relay(db, publisher)) {
                await().atMost(DEADLINE).until(() -> letters.count("shop") == 1 && publisher.confirmed.size() == 1);
                OutboxDeadLetter letter = letters.get("shop", k1).orElseThrow();
                assertThat(letter.reason()).startsWith("rejected: the transport refused event")
                        .endsWith("bad header value \uFFFD \uFFFD end");
                // Replayed while the transport still refuses it: a letter again, the key still waits.
                letters.replay("shop", k1);
                await().atMost(DEADLINE).until(() -> letters.count("shop") == 1 && db.count("outbox") == 1);
            }
            insertRaw(db, TestEvents.event("shop", "k", 3));
            publisher.refusing(e -> false, "");
            try (Relay r = relay(db, publisher)) {
                insertRaw(db, TestEvents.event("shop", "other", 2));
                await().atMost(DEADLINE).until(() -> publisher.confirmed.size() == 2);
                assertThat(db.count("outbox")).as("a new relay keeps the key parked").isEqualTo(2);

                assertThatThrownBy(() -> letters.replay("shop", k1 + 1000)).isInstanceOf(ConfigException.class)
                        .hasMessageContaining("no relay dead letter " + (k1 + 1000));
                letters.replay("shop", k1);
                await().atMost(DEADLINE).until(() -> db.count("outbox") == 0);
                assertThat(publisher.confirmed).extracting(e -> e.getSubject() + "#" + e.getSequence())
                        .containsExactly("other#1", "other#2", "k#1", "k#2", "k#3");
                assertThat(letters.count("shop")).isZero();
            }
        }
    }
}
