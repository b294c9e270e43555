package io.eventsync.bench;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.transport.Delivery;
import io.eventsync.v1.Envelope;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Dispatcher throughput with a no-op handler, in events per second: one transport thread hands over
 * a batch of pre-encoded order events (1,024 keys over 4 partitions) and the invocation ends when every
 * one of them is acknowledged. Each event is decoded, unpacked, validated (protovalidate), routed to its
 * key's lane, run under the watchdog and acknowledged in partition order: the whole consumer path
 * except a database.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DispatcherBenchmark {
    private static final int BATCH = 20_000;
    private static final int KEYS = 1_024;
    private static final int PARTITIONS = 4;

    @Param({"1", "16"})
    public int lanes;

    private Dispatcher dispatcher;
    private byte[][] events;
    private final AtomicLong acked = new AtomicLong();
    private final long[] nextOffset = new long[PARTITIONS];
    private volatile long target;
    private volatile Thread waiter;

    @Setup(Level.Trial)
    public void setUp() {
        EnvelopeCodec codec = EnvelopeCodec.defaults();
        events = new byte[BATCH][];
        for (int i = 0; i < BATCH; i++) {
            OrderPlaced order = OrderPlaced.newBuilder()
                    .setOrderId("ord-" + i)
                    .setCustomerEmail("ada.lovelace@example.com")
                    .setAmountCents(1_000 + i)
                    .setCurrency("EUR")
                    .addItems(LineItem.newBuilder().setSku("SKU-" + (i % 50)).setQuantity(1))
                    .build();
            Envelope e = Events.create("bench", "order-" + (i % KEYS), i / KEYS + 1, order);
            events[i] = codec.encode(e);
        }
        dispatcher = Dispatcher.builder("bench")
                .types(TypeRegistry.builder().add(OrderPlaced.getDefaultInstance()).build())
                .handlers(HandlerRegistry.builder().on(OrderPlaced.class, (order, ctx) -> Outcome.applied()).build())
                .lanes(lanes)
                .maxInFlight(BATCH)
                .build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dispatcher.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long dispatch() throws InterruptedException {
        long start = acked.get();
        target = start + BATCH;
        waiter = Thread.currentThread();
        for (int i = 0; i < BATCH; i++) {
            int partition = (i % KEYS) % PARTITIONS;
            dispatcher.onDelivery(new BenchDelivery(partition, nextOffset[partition]++, events[i]));
        }
        while (acked.get() < target) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(10));
        }
        return acked.get();
    }

    private final class BenchDelivery implements Delivery {
        private final int partition;
        private final long offset;
        private final byte[] bytes;

        BenchDelivery(int partition, long offset, byte[] bytes) {
            this.partition = partition;
            this.offset = offset;
            this.bytes = bytes;
        }

        @Override
        public String partition() {
            return PARTITION_NAMES[partition];
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public byte[] bytes() {
            return bytes;
        }

        @Override
        public int deliveryCount() {
            return 1;
        }

        @Override
        public void ack() {
            if (acked.incrementAndGet() == target) {
                LockSupport.unpark(waiter);
            }
        }
    }

    private static final String[] PARTITION_NAMES = {"bench-0", "bench-1", "bench-2", "bench-3"};
}
