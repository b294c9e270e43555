package io.eventsync.handler;

import io.eventsync.EventsyncException;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.DeadLetterStore;
import io.eventsync.dispatch.InMemoryDeadLetters;
import io.eventsync.test.dispatch.v1.Step;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A dead-letter store that cannot be written is loud and loses nothing: the event stays
 * unacknowledged and is retried, a counter and a gauge show it, and other keys keep flowing.
 */
class DeadLetterStoreFailureTest {
    private final Fixture f = new Fixture();

    @AfterEach
    void close() {
        f.close();
    }

    /** The in-memory store, refusing its first {@code failures} writes (as a database that is down would). */
    private static final class Refusing implements DeadLetterStore {
        private final InMemoryDeadLetters inner = new InMemoryDeadLetters();
        private final AtomicInteger failuresLeft;

        Refusing(int failures) {
            this.failuresLeft = new AtomicInteger(failures);
        }

        private void maybeFail() {
            if (failuresLeft.getAndDecrement() > 0) {
                throw new EventsyncException("the dead-letter database is down (test)");
            }
        }

        @Override public DeadLetter add(DeadLetter letter) { maybeFail(); return inner.add(letter); }
        @Override public Optional<DeadLetter> holdIfParked(DeadLetter held) { return inner.holdIfParked(held); }
        @Override public List<DeadLetter> list(String subscription) { return inner.list(subscription); }
        @Override public Optional<DeadLetter> get(String id) { return inner.get(id); }
        @Override public List<DeadLetter> byKey(String s, String key) { return inner.byKey(s, key); }
        @Override public Set<String> keys(String subscription) { return inner.keys(subscription); }
        @Override public boolean update(DeadLetter letter) { return inner.update(letter); }
        @Override public boolean remove(String id) { return inner.remove(id); }
    }

    @Test
    void aFailingStoreWriteIsCountedGaugedAndRetriedUntilTheLetterIsStored() throws Exception {
        Refusing store = new Refusing(3);
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (s, c) -> {
            if (s.getKey().equals("bad")) {
                return Outcome.reject("always rejected");
            }
            f.record(s, c.envelope());
            return Outcome.applied();
        }, fast()).build()).deadLetters(store));

        f.deliver("p-bad", event("bad", 1));
        await().until(() -> f.dispatcher.blockedOnDeadLetterStore() == 1);
        f.deliver("p-good", event("good", 1));
        await().untilAsserted(() -> assertThat(f.acks.acks()).isEqualTo(2));

        assertThat(f.appliedSteps("good")).containsExactly(1L);
        assertThat(store.list(f.subscription)).singleElement()
                .satisfies(l -> assertThat(l.reason()).contains("always rejected"));
        assertThat(f.dispatcher.blockedOnDeadLetterStore()).isZero();
        assertThat(f.meters.get("eventsync.dead_letters.store_failures").counter().count()).isEqualTo(3.0);
        assertThat(f.meters.get("eventsync.dead_letters.store_blocked").gauge().value()).isZero();
    }
}
