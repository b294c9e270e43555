package io.eventsync.dispatch.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.transport.Delivery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.quicktheories.WithQuickTheories;
import org.quicktheories.core.Gen;

class AckTrackerTest implements WithQuickTheories {
    private static final int TRIES = 200;

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

    /**
     * Runs on QuickTheories: a case is a partition count and the deliveries in arrival order, each
     * naming its partition (modulo the count) and its rank in the order of completion; a failure
     * prints the shrunk case and the seed, and {@code -DQT_SEED=<seed>} replays that run.
     */
    @Test
    void acksFollowArrivalOrderWhateverTheOrderOfCompletion() {
        AtomicInteger checked = new AtomicInteger();
        Gen<List<Arrival>> deliveries = lists()
                .of(integers().between(0, 3).zip(integers().between(0, 1_000), Arrival::new))
                .ofSizeBetween(1, 60);
        // QuickTheories skips a case it has already tried, so ask for a margin over the tries we count.
        qt().withExamples(TRIES + TRIES / 5).forAll(integers().between(1, 4), deliveries)
                .checkAssert((partitions, arrivals) -> {
                    checked.incrementAndGet();
                    acksFollowArrivalOrder(partitions, arrivals);
                });
        assertThat(checked).as("distinct cases tried").hasValueGreaterThanOrEqualTo(TRIES);
    }

    /** One delivery of a case: its partition (modulo the case's count) and its rank in the completion order. */
    record Arrival(int partition, int completionRank) {}

    private void acksFollowArrivalOrder(int partitions, List<Arrival> arrivals) {
        acked.clear();
        int deliveries = arrivals.size();
        AckTracker tracker = new AckTracker(d -> {});
        List<AckTracker.Ticket> tickets = new ArrayList<>();
        List<String> names = new ArrayList<>();
        long[] offsets = new long[partitions];
        for (Arrival arrival : arrivals) {
            int p = arrival.partition() % partitions;
            tickets.add(tracker.register(delivery("p" + p, offsets[p])));
            names.add("p" + p + "@" + offsets[p]++);
        }
        List<Integer> completion = new ArrayList<>();
        for (int i = 0; i < deliveries; i++) {
            completion.add(i);
        }
        completion.sort(Comparator.comparing(i -> arrivals.get(i).completionRank()));
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
