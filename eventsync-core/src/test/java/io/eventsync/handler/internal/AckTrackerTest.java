package io.eventsync.handler.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.transport.Delivery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AckTrackerTest {

    private final List<String> acked = Collections.synchronizedList(new ArrayList<>());

    private Delivery delivery(String partition, long offset) {
        return new Delivery() {
            @Override public String partition() { return partition; }
            @Override public long offset() { return offset; }
            @Override public byte[] bytes() { return new byte[0]; }
            @Override public int deliveryCount() { return 1; }
            @Override public void ack() { acked.add(partition + "@" + offset); }
        };
    }

    @Test
    void aDoneDeliveryWaitsForEveryEarlierDeliveryOfItsPartition() {
        AckTracker tracker = new AckTracker(d -> {});
        AckTracker.Ticket a0 = tracker.register(delivery("a", 0));
        AckTracker.Ticket a1 = tracker.register(delivery("a", 1));
        AckTracker.Ticket b0 = tracker.register(delivery("b", 0));
        AckTracker.Ticket a2 = tracker.register(delivery("a", 2));

        a2.done();
        a1.done();
        b0.done();
        assertThat(acked).containsExactly("b@0");
        a0.done();
        assertThat(acked).containsExactly("b@0", "a@0", "a@1", "a@2");
        assertThat(a0.done()).as("done twice").isFalse();
        assertThat(acked).hasSize(4);
        assertThat(tracker.pending()).isZero();
    }

    @Property(tries = 200)
    void acksFollowArrivalOrderWhateverTheOrderOfCompletion(
            @ForAll @IntRange(min = 1, max = 60) int deliveries,
            @ForAll @IntRange(min = 1, max = 4) int partitions,
            @ForAll long seed) {
        acked.clear();
        AckTracker tracker = new AckTracker(d -> {});
        List<AckTracker.Ticket> tickets = new ArrayList<>();
        List<String> names = new ArrayList<>();
        long[] offsets = new long[partitions];
        Random random = new Random(seed);
        for (int i = 0; i < deliveries; i++) {
            int p = random.nextInt(partitions);
            tickets.add(tracker.register(delivery("p" + p, offsets[p])));
            names.add("p" + p + "@" + offsets[p]++);
        }
        List<Integer> completion = new ArrayList<>();
        for (int i = 0; i < deliveries; i++) {
            completion.add(i);
        }
        Collections.shuffle(completion, random);
        Set<Integer> done = new HashSet<>();
        for (int i : completion) {
            tickets.get(i).done();
            done.add(i);
            // every acknowledged delivery is done, and so is every earlier one of its partition
            for (String name : List.copyOf(acked)) {
                int index = names.indexOf(name);
                assertThat(done).contains(index);
                String partition = name.substring(0, name.indexOf('@'));
                for (int j = 0; j < index; j++) {
                    if (names.get(j).startsWith(partition + "@")) {
                        assertThat(done).contains(j);
                    }
                }
            }
        }
        assertThat(acked).hasSize(deliveries);
        for (int p = 0; p < partitions; p++) {
            String prefix = "p" + p + "@";
            List<String> inPartition = acked.stream().filter(n -> n.startsWith(prefix)).toList();
            List<String> expected = names.stream().filter(n -> n.startsWith(prefix)).toList();
            assertThat(inPartition).isEqualTo(expected);
        }
    }
}
