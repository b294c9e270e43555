package io.eventsync.handler;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.InMemoryDeadLetters;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InMemoryDeadLettersTest {

    private final InMemoryDeadLetters store = new InMemoryDeadLetters();

    private static DeadLetter letter(String id, String subscription, DeadLetter.Kind kind, String key, String reason) {
        Instant now = Instant.parse("2026-11-25T12:00:00Z");
        return new DeadLetter(id, subscription, kind, "event-" + id, key, "t", new byte[] {1}, reason, List.of(),
                1, now, now);
    }

    @Test
    void lettersOfAKeyKeepTheOrderTheyWereAddedInAndAnUpdateKeepsItsPlace() {
        store.add(letter("1", "s", DeadLetter.Kind.FAILED, "a", "boom"));
        store.add(letter("2", "s", DeadLetter.Kind.HELD, "a", "held"));
        store.add(letter("3", "s", DeadLetter.Kind.FAILED, "b", "boom"));
        store.add(letter("4", "s", DeadLetter.Kind.HELD, "a", "held"));
        store.add(letter("5", "other", DeadLetter.Kind.FAILED, "a", "boom"));

        assertThat(store.remove("1")).isTrue();
        assertThat(store.update(letter("2", "s", DeadLetter.Kind.FAILED, "a", "failed on release"))).isTrue();

        assertThat(store.byKey("s", "a")).extracting(DeadLetter::id).containsExactly("2", "4");
        assertThat(store.byKey("s", "a").get(0).kind()).isEqualTo(DeadLetter.Kind.FAILED);
        assertThat(store.keys("s")).containsExactly("a", "b");
        assertThat(store.list("s")).extracting(DeadLetter::id).containsExactly("2", "3", "4");
        assertThat(store.get("5")).isPresent();
        assertThat(store.update(letter("9", "s", DeadLetter.Kind.FAILED, "a", "x"))).isFalse();
        assertThat(store.remove("9")).isFalse();
    }

    @Test
    void addingALetterTwiceIsRefused() {
        store.add(letter("1", "s", DeadLetter.Kind.FAILED, "a", "boom"));
        assertThatThrownBy(() -> store.add(letter("1", "s", DeadLetter.Kind.FAILED, "a", "boom")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1");
    }
}
