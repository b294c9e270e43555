package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.dispatch.DeadLetter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Dead letters in the consumer's database: durable, ordered per key, updated in place. */
@Tag("database")
class JdbcDeadLettersDatabaseTest {

    private static DeadLetter letter(String key, DeadLetter.Kind kind, String reason) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        return new DeadLetter(UUID.randomUUID().toString(), "sub", kind, "e-" + UUID.randomUUID(), key, "t.Type",
                new byte[] {1, 2, 3}, reason, List.of("outer: boom", "inner\nwith newline"), 3, now, now);
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void lettersKeepTheirOrderPerKeyAndUpdatesKeepTheirPlace(TestDb.Kind kind) {
        try (TestDb db = TestDb.create(kind).withConsumerTables()) {
            JdbcDeadLetters store = JdbcDeadLetters.create(db.dataSource());
            DeadLetter failed = letter("k1", DeadLetter.Kind.FAILED, "poison");
            DeadLetter held1 = letter("k1", DeadLetter.Kind.HELD, "behind " + failed.id());
            DeadLetter other = letter("k2", DeadLetter.Kind.FAILED, "other");
            DeadLetter held2 = letter("k1", DeadLetter.Kind.HELD, "behind " + failed.id());
            store.add(failed);
            store.add(held1);
            store.add(other);
            store.add(held2);

            // A fresh store (a restarted process) sees the same, durable letters.
            JdbcDeadLetters reopened = JdbcDeadLetters.create(db.dataSource());
            assertThat(reopened.byKey("sub", "k1")).extracting(DeadLetter::id)
                    .containsExactly(failed.id(), held1.id(), held2.id());
            assertThat(reopened.keys("sub")).containsExactly("k1", "k2");
            DeadLetter read = reopened.get(failed.id()).orElseThrow();
            assertThat(read.errorChain()).containsExactly("outer: boom", "inner\nwith newline");
            assertThat(read.bytes()).containsExactly(1, 2, 3);
            assertThat(read.firstFailure()).isEqualTo(failed.firstFailure());

            assertThat(reopened.remove(failed.id())).isTrue();
            DeadLetter promoted = new DeadLetter(held1.id(), "sub", DeadLetter.Kind.FAILED, held1.eventId(), "k1",
                    held1.type(), held1.bytes(), "failed on release", List.of("x"), 1, held1.firstFailure(),
                    held1.lastFailure());
            assertThat(reopened.update(promoted)).isTrue();
            reopened.add(letter("k1", DeadLetter.Kind.HELD, "later"));

            List<DeadLetter> k1 = store.byKey("sub", "k1");
            assertThat(k1).extracting(DeadLetter::id).startsWith(held1.id(), held2.id());
            assertThat(k1.get(0).kind()).isEqualTo(DeadLetter.Kind.FAILED);
            assertThat(k1.get(0).reason()).isEqualTo("failed on release");
            assertThat(store.list("sub")).hasSize(4);
            assertThat(store.remove("nope")).isFalse();
            assertThat(store.update(letter("k9", DeadLetter.Kind.FAILED, "absent"))).isFalse();
        }
    }
}
