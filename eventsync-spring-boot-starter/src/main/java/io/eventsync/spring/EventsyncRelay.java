package io.eventsync.spring;

import io.eventsync.jdbc.Relay;
import org.springframework.context.SmartLifecycle;

/** Runs the service's relay while the application runs (one leader across instances, by lease). */
public final class EventsyncRelay implements SmartLifecycle {
    private final Relay relay;
    private volatile boolean running;

    public EventsyncRelay(Relay relay) {
        this.relay = relay;
    }

    public Relay relay() {
        return relay;
    }

    @Override
    public synchronized void start() {
        relay.start();
        running = true;
    }

    @Override
    public synchronized void stop() {
        relay.close();
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 4096;
    }
}
