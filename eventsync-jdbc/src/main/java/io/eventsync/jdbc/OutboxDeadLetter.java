package io.eventsync.jdbc;

import java.time.Instant;
import java.util.Objects;

/**
 * An outbox row that no transport would take (too large, undecodable, refused for good), kept by the
 * relay in {@code eventsync_outbox_dead_letters} while its key is parked.
 *
 * @param id        the row's outbox id, which is also the event's position
 * @param key       the row's partition key (its {@code subject} column): the key that waits
 * @param bytes     the stored bytes, exactly as the writer wrote them (for a {@link WalRelay} letter, with
 *                  the position field the relay appends)
 * @param reason    why, starting with its class: {@code oversize:}, {@code undecodable:},
 *                  {@code key_mismatch:} or {@code rejected:}; after {@code [WAL relay] } for a letter the
 *                  {@link WalRelay} kept (its key was not parked)
 * @param attempts  how often the relay tried the row's key before it gave up on the row
 */
public record OutboxDeadLetter(long id, String source, String eventId, String key, String type, long sequence,
                               byte[] bytes, String reason, int attempts, Instant firstFailure, Instant lastFailure) {
    public OutboxDeadLetter {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(reason, "reason");
    }
}
