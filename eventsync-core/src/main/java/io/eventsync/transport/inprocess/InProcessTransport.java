package io.eventsync.transport.inprocess;

import io.eventsync.ConfigException;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A transport inside one JVM: topics kept in memory with a fixed number of partitions (chosen by the
 * event's key), fan-out between groups (every group gets every event) and competing consumers inside a
 * group (they split the partitions, in both modes). A group's position is what its consumers
 * acknowledged: when a subscription closes, whatever it had not acknowledged is delivered again to the
 * group's next consumer.
 *
 * <p>{@link #connect()} opens another client on the same in-memory topics, which is how tests simulate
 * a broker restart or a second process. Nothing survives the JVM.
 */
public final class InProcessTransport implements Transport {

    private final InProcessBroker broker;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private boolean closed;

    private InProcessTransport(InProcessBroker broker) {
        this.broker = broker;
    }

    /** A transport with 4 partitions per topic and a 1 MiB event limit. */
    public static InProcessTransport create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Another client on the same topics and groups; closing it leaves this one (and the topics) alone. */
    public InProcessTransport connect() {
        return new InProcessTransport(broker);
    }

    @Override
    public String name() {
        return "inprocess";
    }

    @Override
    public synchronized Publisher publisher(String topic) {
        requireOpen();
        SubscriptionSpec.fanout(topic, "publisher"); // validates the topic name the same way
        InProcessPublisher publisher = new InProcessPublisher(broker.topic(topic), broker.maxEventBytes());
        owned.add(publisher);
        return publisher;
    }

    @Override
    public synchronized Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        requireOpen();
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(handler, "handler");
        InProcessSubscription subscription = broker.topic(spec.topic()).join(spec, handler);
        owned.add(subscription);
        return subscription;
    }

    @Override
    public void close() {
        List<AutoCloseable> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = new ArrayList<>(owned);
            owned.clear();
        }
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + c + " failed", e);
            }
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this in-process transport is closed; connect() a new one");
        }
    }

    public static final class Builder {
        private int partitions = 4;
        private int maxEventBytes = EnvelopeCodec.DEFAULT_MAX_BYTES;

        private Builder() {}

        /** Partitions per topic (default 4): the unit of ordering and of sharing inside a group. */
        public Builder partitions(int partitions) {
            this.partitions = partitions;
            return this;
        }

        /** The largest encoded event a publisher accepts (default 1 MiB). */
        public Builder maxEventBytes(int maxEventBytes) {
            this.maxEventBytes = maxEventBytes;
            return this;
        }

        public InProcessTransport build() {
            if (partitions < 1 || partitions > 1024) {
                throw new ConfigException("in-process partitions must be 1..1024, but was " + partitions);
            }
            if (maxEventBytes < 1) {
                throw new ConfigException("in-process maxEventBytes must be >= 1, but was " + maxEventBytes);
            }
            return new InProcessTransport(new InProcessBroker(partitions, maxEventBytes));
        }
    }
}
