package io.eventsync.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean method as the handler of one payload type in one subscription. The method takes the
 * protobuf payload (its type is the event type handled) and optionally an
 * {@link io.eventsync.handler.EventContext}, and returns an {@link io.eventsync.handler.Outcome} or
 * {@code void} (applied). It runs inside the subscription's apply transaction: the context's
 * {@code resource(java.sql.Connection.class)} is the copy's connection, and an exception rolls back.
 *
 * <pre>{@code
 * @EventsyncHandler(subscription = "billing")
 * Outcome on(OrderPaid paid, EventContext ctx) { ... }
 * }</pre>
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface EventsyncHandler {

    /** The subscription (consumer group) the handler belongs to: a key of {@code eventsync.subscriptions}. */
    String subscription();
}
