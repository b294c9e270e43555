package io.eventsync.jdbc;

import com.google.protobuf.Message;
import io.eventsync.dispatch.Invocation;
import io.eventsync.handler.CancellationToken;
import io.eventsync.handler.EventContext;
import io.eventsync.handler.Handler;
import io.eventsync.handler.Outcome;
import io.eventsync.v1.Envelope;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Drives an {@link io.eventsync.dispatch.ApplyScope} the way the dispatcher does, for tests of the scope
 * on its own: binds resources, collects abort hooks and emitted events, and can be abandoned.
 */
final class TestInvocation implements Invocation {
    private final Envelope envelope;
    private final Message payload;
    private final String subscription;
    private final Handler<Message> handler;
    private final Map<Class<?>, Object> resources = new HashMap<>();
    private final List<Runnable> abortHooks = new CopyOnWriteArrayList<>();
    private final List<Envelope> emitted = new ArrayList<>();
    private volatile boolean abandoned;
    int calls;

    TestInvocation(String subscription, Envelope envelope, Message payload, Handler<Message> handler) {
        this.subscription = subscription;
        this.envelope = envelope;
        this.payload = payload;
        this.handler = handler;
    }

    /** What the dispatcher does when the grace period passes: mark abandoned, run the abort hooks. */
    void abandon() {
        abandoned = true;
        abortHooks.forEach(Runnable::run);
    }

    @Override public Envelope envelope() { return envelope; }
    @Override public String subscription() { return subscription; }
    @Override public String partition() { return "0"; }
    @Override public long offset() { return envelope.getPosition(); }
    @Override public int attempt() { return 1; }
    @Override public <R> void bind(Class<R> type, R resource) { resources.put(type, resource); }
    @Override public void onAbort(Runnable hook) { abortHooks.add(hook); }
    @Override public List<Envelope> emitted() { return List.copyOf(emitted); }
    @Override public boolean abandoned() { return abandoned; }

    @Override
    public Outcome proceed() throws Exception {
        calls++;
        return handler.handle(payload, new EventContext() {
            @Override public Envelope envelope() { return envelope; }
            @Override public String subscription() { return subscription; }
            @Override public int attempt() { return 1; }
            @Override public Instant deadline() { return Instant.now().plusSeconds(30); }
            @Override public CancellationToken cancellation() {
                return new CancellationToken() {
                    @Override public boolean isCancelled() { return abandoned; }
                    @Override public void throwIfCancelled() {}
                    @Override public void onCancel(Runnable callback) {}
                };
            }
            @Override public void emit(Envelope followUp) { emitted.add(followUp); }
            @Override public <R> Optional<R> resource(Class<R> type) { return Optional.ofNullable(type.cast(resources.get(type))); }
            @Override public void onAbort(Runnable hook) { abortHooks.add(hook); }
        });
    }
}
