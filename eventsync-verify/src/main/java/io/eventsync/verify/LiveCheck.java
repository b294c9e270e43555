package io.eventsync.verify;

import io.eventsync.ConfigException;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.Outbox;
import java.time.Duration;
import java.util.Objects;

/**
 * How a diff taken while events flow tells a real divergence from a change still in flight: each
 * candidate difference is re-checked after the copy has applied what the source had committed for
 * that key when the row was read, and only what still differs is reported.
 *
 * <ul>
 *   <li>With the source's {@link Outbox} and the copy's {@link Inbox} and subscription, the diff reads
 *       the key's latest event still waiting in the outbox ({@link Outbox#pendingPosition}) and waits
 *       until the copy has applied it ({@link Inbox#awaitApplied}): the relay has not sent it yet.</li>
 *   <li>With version columns ({@link TableDiff.Builder#versionColumns}), a copy row of a lower version
 *       than the source's, or a row missing on one side, is a change sent but not applied yet; the diff
 *       re-reads it until it settles. Equal versions with different values are a divergence at once.</li>
 *   <li>What has not settled within {@link #timeout()} of being found is reported.</li>
 * </ul>
 *
 * <p>The table's key, as text, must be the events' subject (their aggregate key), as in the pattern
 * of a source table whose version becomes the event's sequence.
 */
public final class LiveCheck {
    private final Outbox outbox;
    private final Inbox inbox;
    private final String subscription;
    private final Duration timeout;

    private LiveCheck(Builder b) {
        this.outbox = b.outbox;
        this.inbox = b.inbox;
        this.subscription = b.subscription;
        this.timeout = b.timeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The source's outbox, or null. */
    public Outbox outbox() {
        return outbox;
    }

    /** The copy's inbox, or null. */
    public Inbox inbox() {
        return inbox;
    }

    /** The copy's subscription (consumer group), or null. */
    public String subscription() {
        return subscription;
    }

    /** How long a candidate difference may take to settle before it is reported. */
    public Duration timeout() {
        return timeout;
    }

    public static final class Builder {
        private Outbox outbox;
        private Inbox inbox;
        private String subscription;
        private Duration timeout = Duration.ofSeconds(30);

        private Builder() {}

        /** The source's outbox (the source connection given to the diff reads it). */
        public Builder outbox(Outbox outbox) {
            this.outbox = Objects.requireNonNull(outbox, "outbox");
            return this;
        }

        /** The copy's inbox and the subscription that applies the source's events to the copy. */
        public Builder inbox(Inbox inbox, String subscription) {
            this.inbox = Objects.requireNonNull(inbox, "inbox");
            this.subscription = subscription;
            return this;
        }

        /** Default 30 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public LiveCheck build() {
            if (timeout == null || timeout.isNegative()) {
                throw new ConfigException("timeout must be zero or positive, but was: " + timeout);
            }
            if ((outbox == null) != (inbox == null)) {
                throw new ConfigException("outbox and inbox go together: the outbox position of a key is waited for"
                        + " in the copy's inbox; give both or neither");
            }
            if (inbox != null && (subscription == null || subscription.isBlank())) {
                throw new ConfigException("subscription must name the copy's consumer group, but was: " + subscription);
            }
            return new LiveCheck(this);
        }
    }
}
