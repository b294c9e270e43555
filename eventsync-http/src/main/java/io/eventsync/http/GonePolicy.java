package io.eventsync.http;

/**
 * What an HTTP feed subscription does when the feed no longer retains its position (410, a
 * {@link FeedGoneException}): the consumer was stopped or slow for longer than the source's log
 * retention.
 */
public enum GonePolicy {
    /**
     * The default: stop pulling and report it. The puller logs an error naming the feed, the group, the
     * position asked and the oldest retained offset, and hands the {@link FeedGoneException} to its
     * handler ({@code DeliveryHandler.onSubscriptionFailed}: {@code Dispatcher.health} turns unhealthy
     * with that reason). Nothing after the gap is applied. An operator re-bootstraps the copy.
     */
    FAIL,
    /**
     * Bootstrap again from a snapshot, then follow the feed from the snapshot's position: every row goes
     * through the same apply path (inbox, version guard: a row not newer than what the copy has changes
     * nothing), the snapshot's position is stored, and pulling resumes there, so every event after it
     * is delivered. Rows deleted at the source while the copy was behind are not in the snapshot and stay
     * in the copy: run {@code eventsync verify --version ... --repair --apply} to remove them.
     */
    REBOOTSTRAP
}
