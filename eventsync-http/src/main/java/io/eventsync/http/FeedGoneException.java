package io.eventsync.http;

/**
 * The feed answered 410: it no longer retains the position asked for, because retention removed
 * events the consumer never read. Retrying cannot fix it; the copy has to be bootstrapped again from a
 * snapshot ({@link GonePolicy#REBOOTSTRAP} does that on its own).
 */
public class FeedGoneException extends FeedRejectedException {
    private final String topic;
    private final long position;
    private final long oldest;

    public FeedGoneException(String topic, long position, long oldest, String reason) {
        super(410, "feed " + topic + " no longer holds position " + position + " (oldest retained offset "
                + (oldest > 0 ? Long.toString(oldest) : "not reported") + "): events the copy never read were removed"
                + " by retention; bootstrap the copy again from a snapshot. Server said: " + reason);
        this.topic = topic;
        this.position = position;
        this.oldest = oldest;
    }

    /** The feed (topic) that refused. */
    public String topic() {
        return topic;
    }

    /** The position (next offset) asked for. */
    public long position() {
        return position;
    }

    /** The oldest offset the feed still retains, or -1 when the server did not say (an older server). */
    public long oldest() {
        return oldest > 0 ? oldest : -1;
    }
}
