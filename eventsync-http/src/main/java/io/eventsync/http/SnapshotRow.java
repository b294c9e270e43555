package io.eventsync.http;

import com.google.protobuf.Message;
import java.util.Objects;

/**
 * One row of a snapshot as an event: the aggregate key, the row's version and the payload a
 * copy applies. The version must be the same number the source's events carry as
 * {@code sequence} for that subject, so the copy's version guard can order snapshot rows and
 * feed events against each other.
 */
public record SnapshotRow(String subject, long sequence, Message payload) {
    public SnapshotRow {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(payload, "payload");
        if (sequence < 1) {
            throw new IllegalArgumentException("sequence of subject " + subject + " must be >= 1 but was " + sequence);
        }
    }
}
