package io.eventsync.jdbc.internal;

/** The columns of one outbox row as the writer knows them (the id is generated). */
public record OutboxRow(String source, String eventId, String subject, String type, long sequence, byte[] payload) {}
