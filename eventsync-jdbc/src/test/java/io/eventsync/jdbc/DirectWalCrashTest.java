package io.eventsync.jdbc;

import org.junit.jupiter.api.Tag;

/**
 * {@link WalCrashTest} with the relay handing its events straight to the dispatcher
 * ({@code io.eventsync.transport.direct.DirectPublisher}), no log in between: the slot is confirmed only
 * past events whose copy transaction committed, so after each SIGKILL the copy still equals the source and
 * the inbox holds every event once.
 */
@Tag("database")
@Tag("crash")
class DirectWalCrashTest extends WalCrashTest {
    @Override
    String mode() {
        return "direct";
    }
}
