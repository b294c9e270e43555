package io.eventsync.jdbc;

/**
 * What one retention pass deleted from one table: {@code rows} in {@code statements} statements, each
 * of them its own short transaction deleting a bounded batch.
 *
 * @param table      the table, unquoted ({@code schema.eventsync_inbox}); for tombstones also the copy
 *                   table they belong to ({@code schema.eventsync_copy_tombstones[accounts_copy]})
 * @param rows       rows deleted
 * @param statements delete statements run (the last one deleted fewer rows than a batch, or none)
 */
public record Purged(String table, long rows, int statements) {}
