package io.eventsync.bench;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.test.v1.LineItem;
import io.eventsync.test.v1.OrderPlaced;
import io.eventsync.v1.Envelope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Envelope codec cost per event: encode, decode, and decode plus typed payload unpack, for a
 * realistic order event (five line items, labels, trace context; 421 bytes on the wire).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {
    private EnvelopeCodec codec;
    private TypeRegistry registry;
    private Envelope envelope;
    private byte[] bytes;

    @Setup
    public void setUp() {
        codec = EnvelopeCodec.defaults();
        registry = TypeRegistry.builder().add(OrderPlaced.getDefaultInstance()).build();
        OrderPlaced.Builder order = OrderPlaced.newBuilder()
                .setOrderId("ord-2026-000123456")
                .setCustomerEmail("ada.lovelace@example.com")
                .setAmountCents(129_990)
                .setCurrency("EUR")
                .putLabels("channel", "web")
                .putLabels("campaign", "black-friday");
        for (int i = 0; i < 5; i++) {
            order.addItems(LineItem.newBuilder().setSku("SKU-" + (10_000 + i)).setQuantity(i + 1));
        }
        envelope = Events.create("shop-orders", "order-000123456", 42, order.build()).toBuilder()
                .setTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .putAttributes("tenant", "acme")
                .build();
        bytes = codec.encode(envelope);
    }

    @Benchmark
    public byte[] encode() {
        return codec.encode(envelope);
    }

    @Benchmark
    public Envelope decode() {
        return codec.decode(bytes);
    }

    @Benchmark
    public Object decodeAndUnpack() {
        return registry.unpack(codec.decode(bytes));
    }

    /** Wire size of the benchmarked envelope, for reading the figures. */
    public static void main(String[] args) {
        CodecBenchmark b = new CodecBenchmark();
        b.setUp();
        System.out.println("envelope bytes: " + b.bytes.length);
    }
}
