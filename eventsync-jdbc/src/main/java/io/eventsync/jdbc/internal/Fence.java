package io.eventsync.jdbc.internal;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A check run inside a writer's transaction before it commits: true when the writer may still write.
 * The relay hands one to a log publisher on the same database so that appending to the log is fenced
 * by the relay's lease like deleting outbox rows is.
 */
@FunctionalInterface
public interface Fence {
    Fence NONE = c -> true;

    boolean holds(Connection c) throws SQLException;
}
