package io.eventsync.transport.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.slf4j.Logger;

/**
 * The publishers and subscriptions a transport opened, to be closed with it; those closed already are
 * forgotten when the next one is tracked. Thread-safe.
 *
 * <p>Shared by the transport modules (NATS, RabbitMQ). Machinery, not public API: it may change without notice.
 */
public final class OpenResources implements Iterable<AutoCloseable> {
    private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();
    private final Predicate<AutoCloseable> isClosed;
    private final Logger log;

    /**
     * @param isClosed whether a tracked resource was closed already (by its owner)
     * @param log      where a failure to close is reported (the transport's logger)
     */
    public OpenResources(Predicate<AutoCloseable> isClosed, Logger log) {
        this.isClosed = Objects.requireNonNull(isClosed, "isClosed");
        this.log = Objects.requireNonNull(log, "log");
    }

    /** Remembers a resource to close with the transport, forgetting those already closed. */
    public void track(AutoCloseable resource) {
        resources.removeIf(isClosed);
        resources.add(resource);
    }

    /** Closes and forgets every tracked resource; a failure is logged and the others are closed all the same. */
    public void closeAll() {
        List<AutoCloseable> open = new ArrayList<>(resources);
        resources.clear();
        for (AutoCloseable resource : open) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn("Closing {} failed", resource, e);
            }
        }
    }

    /** The tracked resources (a snapshot: safe while others are tracked or closed). */
    @Override
    public Iterator<AutoCloseable> iterator() {
        return resources.iterator();
    }
}
