package io.eventsync.jdbc.internal;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Wakes {@code awaitApplied} callers in this JVM when an apply transaction that recorded their
 * position commits, so a read-your-writes wait costs one signal instead of a polling interval.
 * The hot path (no waiters) is one {@code isEmpty()} check per commit.
 */
public final class InboxSignal {

    public record Key(String subscription, String source, long position) {}

    private final Map<Key, Set<CountDownLatch>> waiters = new ConcurrentHashMap<>();

    public CountDownLatch register(Key key) {
        CountDownLatch latch = new CountDownLatch(1);
        waiters.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(latch);
        return latch;
    }

    public void unregister(Key key, CountDownLatch latch) {
        waiters.computeIfPresent(key, (k, set) -> {
            set.remove(latch);
            return set.isEmpty() ? null : set;
        });
    }

    /** Called after a commit that recorded {@code key}. */
    public void applied(String subscription, String source, long position) {
        if (waiters.isEmpty()) {
            return;
        }
        Set<CountDownLatch> set = waiters.get(new Key(subscription, source, position));
        if (set != null) {
            set.forEach(CountDownLatch::countDown);
        }
    }
}
