package io.eventsync.transport;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * A transport that tells which topics and subscriptions a test uses, before passing each call on, so that
 * the test can delete the broker's streams, exchanges or queues after it. Shared by the transport modules'
 * contract tests through the core test-jar.
 */
public final class NameRecordingTransport implements Transport {
    private final Transport delegate;
    private final Consumer<String> onPublisher;
    private final Consumer<SubscriptionSpec> onSubscribe;

    /**
     * @param delegate    the transport under test
     * @param onPublisher called with the topic of every publisher opened
     * @param onSubscribe called with the spec of every subscription opened
     */
    public NameRecordingTransport(Transport delegate, Consumer<String> onPublisher, Consumer<SubscriptionSpec> onSubscribe) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.onPublisher = Objects.requireNonNull(onPublisher, "onPublisher");
        this.onSubscribe = Objects.requireNonNull(onSubscribe, "onSubscribe");
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Publisher publisher(String topic) {
        onPublisher.accept(topic);
        return delegate.publisher(topic);
    }

    @Override
    public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
        onSubscribe.accept(spec);
        return delegate.subscribe(spec, handler);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
