package io.eventsync.envelope;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class EventsTest {
    private static final Pattern UUID_V7 =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    @Test
    void newIdIsAVersion7UuidWithTheRfcVariant() {
        String id = Events.newId();
        assertThat(id).matches(UUID_V7);
        UUID uuid = UUID.fromString(id);
        assertThat(uuid.version()).isEqualTo(7);
        assertThat(uuid.variant()).isEqualTo(2);
    }

    @Test
    void newIdCarriesTheCurrentUnixMillis() {
        long before = System.currentTimeMillis();
        UUID uuid = UUID.fromString(Events.newId());
        long after = System.currentTimeMillis();
        long millis = uuid.getMostSignificantBits() >>> 16;
        // The counter may carry the stamp slightly ahead of the clock under a burst; allow a few ms.
        assertThat(millis).isBetween(before, after + 5);
    }

    @Test
    void idsAreStrictlyIncreasingWithinTheJvmEvenInOneMillisecond() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ids.add(Events.newId());
        }
        for (int i = 1; i < ids.size(); i++) {
            assertThat(ids.get(i)).isGreaterThan(ids.get(i - 1)); // lexical order of the text form is time order
        }
    }

    @Test
    void idsMadeConcurrentlyAreUnique() throws InterruptedException {
        ConcurrentLinkedQueue<String> ids = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    ids.add(Events.newId());
                }
            }, "eventsync-test-ids-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        Set<String> distinct = new HashSet<>(ids);
        assertThat(distinct).hasSize(20_000);
    }

    @Test
    void createFillsTheEnvelopeAttributes() {
        Instant before = Instant.now();
        Envelope e = Events.create("shop-orders", "order-1", 3, TestEvents.order());

        assertThat(e.getId()).matches(UUID_V7);
        assertThat(e.getSource()).isEqualTo("shop-orders");
        assertThat(e.getSubject()).isEqualTo("order-1");
        assertThat(e.getSequence()).isEqualTo(3);
        assertThat(e.getSpecversion()).isEqualTo("1.0");
        assertThat(e.getType()).isEqualTo("eventsync.test.v1.OrderPlaced");
        assertThat(e.getPayload()).isEqualTo(Any.pack(TestEvents.order()));
        assertThat(e.getPayload().getTypeUrl()).endsWith("/" + e.getType());
        assertThat(e.getPartitionKey()).isEmpty();
        assertThat(e.getTombstone()).isFalse();
        assertThat(Instant.ofEpochSecond(e.getTime().getSeconds(), e.getTime().getNanos()))
                .isBetween(before, Instant.now());
    }

    @Test
    void tombstoneIsMarkedAndKeepsTheLastPayload() {
        Envelope e = Events.tombstone("shop-orders", "order-1", 4, TestEvents.order());
        assertThat(e.getTombstone()).isTrue();
        assertThat(e.getSequence()).isEqualTo(4);
        assertThat(e.getType()).isEqualTo("eventsync.test.v1.OrderPlaced");
    }
}
