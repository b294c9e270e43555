package io.eventsync.cli.demo;

import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * A service that keeps a copy (billing or shipping): its own database, an inbox, dead letters, and a
 * dispatcher running its handlers inside the JDBC apply scope. It can be restarted while running, as a
 * crashed or redeployed consumer would be.
 */
final class CopyService implements AutoCloseable {
    final String name;
    final String group;
    final DataSource dataSource;
    final Inbox inbox;
    final JdbcDeadLetters deadLetters;
    final MeasuredScope scope;
    private final JdbcApplyScope jdbcScope;
    private final HandlerRegistry handlers;
    private final TypeRegistry types;
    private final Subscriber subscriber;
    private final String topic;
    private final MeterRegistry meters;
    final AtomicLong restarts = new AtomicLong();
    private Dispatcher dispatcher;
    private Subscription subscription;

    CopyService(String name, String group, DataSource dataSource, HandlerRegistry handlers, TypeRegistry types,
                Subscriber subscriber, String topic, MeterRegistry meters,
                Function<String, Long> sourceCommitNanos, Runnable onProgress) {
        this.name = name;
        this.group = group;
        this.dataSource = dataSource;
        this.handlers = handlers;
        this.types = types;
        this.subscriber = subscriber;
        this.topic = topic;
        this.meters = meters;
        this.inbox = Inbox.builder(dataSource).build();
        this.deadLetters = JdbcDeadLetters.create(dataSource);
        this.jdbcScope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).meterRegistry(meters).build();
        this.scope = new MeasuredScope(jdbcScope, sourceCommitNanos, onProgress);
    }

    /** Subscribes a dispatcher; given the copy's database so a transport can keep offsets there. */
    @FunctionalInterface
    interface Subscriber {
        Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler, DataSource copyDatabase);
    }

    synchronized void start() {
        dispatcher = Dispatcher.builder(group)
                .handlers(handlers)
                .types(types)
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(8)
                .meterRegistry(meters)
                .shutdownTimeout(Duration.ofSeconds(10))
                .build();
        subscription = subscriber.subscribe(SubscriptionSpec.fanout(topic, group), dispatcher, dataSource);
    }

    /** Stops consuming and starts again: what was delivered but not acknowledged comes again. */
    synchronized void restart() {
        stop();
        restarts.incrementAndGet();
        start();
    }

    synchronized void stop() {
        if (subscription != null) {
            subscription.close();
            subscription = null;
        }
        if (dispatcher != null) {
            dispatcher.close();
            dispatcher = null;
        }
    }

    List<DeadLetter> deadLetters() {
        return deadLetters.list(group);
    }

    long applied() {
        return scope.done.size();
    }

    @Override
    public synchronized void close() {
        stop();
        jdbcScope.close();
    }
}
