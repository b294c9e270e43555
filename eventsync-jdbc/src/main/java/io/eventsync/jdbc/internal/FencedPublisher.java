package io.eventsync.jdbc.internal;

import io.eventsync.transport.Publisher;
import javax.sql.DataSource;

/** A publisher that writes to a database and can check a relay's {@link Fence} in its transactions. */
public interface FencedPublisher extends Publisher {

    /** The database it writes to: the relay fences only when it is its own. */
    DataSource dataSource();

    void fence(Fence fence);

    /**
     * The relay that set {@code fence} stopped: the publisher may be fenced by the next relay (a restart
     * on the same publisher). Does nothing when another fence is set.
     */
    void unfence(Fence fence);
}
