package io.eventsync.jdbc;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * The consumer side as a service wires it: transport subscription -> Dispatcher (8 lanes) ->
 * JdbcApplyScope (inbox, copy transaction) -> handlers, with dead letters in the copy database.
 */
final class ConsumerRig implements AutoCloseable {
    final Inbox inbox;
    final JdbcApplyScope scope;
    final JdbcDeadLetters deadLetters;
    final Dispatcher dispatcher;
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final Subscription subscription;

    ConsumerRig(Transport transport, String topic, String group, DataSource copyDb, HandlerRegistry handlers) {
        this.inbox = Inbox.builder(copyDb).build();
        this.deadLetters = JdbcDeadLetters.create(copyDb);
        this.scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).meterRegistry(meters).build();
        this.dispatcher = Dispatcher.builder(group)
                .handlers(handlers)
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(8)
                .meterRegistry(meters)
                .shutdownTimeout(Duration.ofSeconds(10))
                .build();
        this.subscription = transport.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher);
    }

    @Override
    public void close() {
        subscription.close();
        dispatcher.close();
        scope.close();
    }
}
