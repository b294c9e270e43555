/**
 * What a handler author uses: {@link io.eventsync.handler.Handler} and the
 * {@link io.eventsync.handler.EventContext} it is given (deadline, cancellation, bound resources,
 * follow-up events), the {@link io.eventsync.handler.Outcome} it returns, and how it is registered and
 * tuned ({@link io.eventsync.handler.HandlerRegistry}, {@link io.eventsync.handler.HandlerOptions},
 * {@link io.eventsync.handler.RetryPolicy}, {@link io.eventsync.handler.DeadLetterPolicy}). Running
 * handlers for a subscription is {@link io.eventsync.dispatch}.
 */
package io.eventsync.handler;
