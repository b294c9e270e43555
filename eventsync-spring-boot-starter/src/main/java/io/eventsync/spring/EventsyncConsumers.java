package io.eventsync.spring;

import com.google.protobuf.Message;
import io.eventsync.ConfigException;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.jdbc.FreshnessTable;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Outbox;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * The subscriptions of {@code eventsync.subscriptions}: one dispatcher each, applying in the service's
 * database (inbox, dead letters and follow-up outbox in one apply transaction) with the
 * {@link EventsyncHandler} methods bound to it. Started once every bean exists, stopped before them.
 */
public final class EventsyncConsumers implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(EventsyncConsumers.class);

    /** One running subscription. */
    public record Running(String name, Dispatcher dispatcher, JdbcApplyScope scope, Subscription subscription) {}

    private final EventsyncProperties properties;
    private final DataSource dataSource;
    private final SchemaNames names;
    private final Transport transport;
    private final Outbox outbox;
    private final HandlerMethods handlers;
    private final DeclaredCopyTables copyTables;
    private final MeterRegistry meters;
    private final Map<String, Running> running = new LinkedHashMap<>();
    private volatile boolean started;

    public EventsyncConsumers(EventsyncProperties properties, DataSource dataSource, SchemaNames names,
                              Transport transport, Outbox outbox, HandlerMethods handlers,
                              DeclaredCopyTables copyTables, MeterRegistry meters) {
        this.properties = properties;
        this.dataSource = dataSource;
        this.names = names;
        this.transport = transport;
        this.outbox = outbox;
        this.handlers = handlers;
        this.copyTables = copyTables;
        this.meters = meters;
    }

    @Override
    public synchronized void start() {
        Map<String, List<HandlerMethods.Found>> found = handlers.bySubscription();
        TreeSet<String> unknown = new TreeSet<>(found.keySet());
        unknown.removeAll(properties.getSubscriptions().keySet());
        if (!unknown.isEmpty()) {
            throw new ConfigException("@EventsyncHandler methods name subscriptions " + unknown + " that are not"
                    + " configured: add eventsync.subscriptions.<name>.topic for each");
        }
        properties.getSubscriptions().forEach((name, config) -> {
            List<HandlerMethods.Found> methods = found.getOrDefault(name, List.of());
            if (methods.isEmpty() && copyTables.of(name).isEmpty()) {
                throw new ConfigException("eventsync.subscriptions." + name + " has no @EventsyncHandler method and"
                        + " no copy-tables: declare what it applies");
            }
            running.put(name, start(name, config, methods));
        });
        started = true;
    }

    @SuppressWarnings("unchecked")
    private Running start(String name, EventsyncProperties.Subscription config, List<HandlerMethods.Found> methods) {
        if (config.getTopic() == null || config.getTopic().isBlank()) {
            throw new ConfigException("eventsync.subscriptions." + name + ".topic is required: the source it reads");
        }
        HandlerRegistry.Builder registry = HandlerRegistry.builder();
        TypeRegistry.Builder types = TypeRegistry.builder();
        Map<String, String> handledBy = new LinkedHashMap<>();
        for (HandlerMethods.Found m : methods) {
            registry.on((Class<Message>) m.type(), m.handler(), HandlerOptions.defaults());
            Message type = defaultInstance(m);
            types.add(type);
            handledBy.put(type.getDescriptorForType().getFullName(), m.where());
        }
        for (DeclaredCopyTables.Declared d : copyTables.of(name)) {
            String type = d.payloadType().getDescriptorForType().getFullName();
            if (handledBy.containsKey(type)) {
                throw new ConfigException(d.property() + ".type: " + type + " is also handled by @EventsyncHandler "
                        + handledBy.get(type) + "; a subscription applies each payload type once: drop one of them");
            }
            d.table().registerOn(registry, HandlerOptions.defaults());
            types.add(d.payloadType());
        }
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(dataSource, names);
        JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(dataSource).schema(names).build())
                .outbox(outbox).deadLetters(deadLetters).meterRegistry(meters).build();
        Dispatcher dispatcher = Dispatcher.builder(name)
                .handlers(registry.build()).types(types.build())
                .codec(EnvelopeCodec.defaults()).validator(EnvelopeValidator.defaults())
                .applyScope(scope).deadLetters(deadLetters).lanes(config.getLanes())
                .applyConcurrency(config.getApplyConcurrency() > 0 ? config.getApplyConcurrency()
                        : Dispatcher.defaultApplyConcurrency())
                .maxBatch(config.getMaxBatch()).meterRegistry(meters)
                .freshnessListener(FreshnessTable.in(dataSource, names)::record).build();
        SubscriptionSpec spec = switch (config.getMode()) {
            case "fanout" -> SubscriptionSpec.fanout(config.getTopic(), name);
            case "queue" -> SubscriptionSpec.queue(config.getTopic(), name);
            default -> throw new ConfigException("eventsync.subscriptions." + name + ".mode must be fanout or queue,"
                    + " but was: " + config.getMode());
        };
        Subscription subscription = transport.subscribe(spec, dispatcher);
        log.info("eventsync subscription {} reads topic {} with {} handler(s) and {} copy table(s) on {} lanes", name,
                config.getTopic(), methods.size(), copyTables.of(name).size(), config.getLanes());
        return new Running(name, dispatcher, scope, subscription);
    }

    /** The generated class's default instance, so payloads unpack to that class (not a DynamicMessage). */
    private static Message defaultInstance(HandlerMethods.Found m) {
        try {
            return (Message) m.type().getMethod("getDefaultInstance").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new ConfigException("the payload type " + m.type().getName() + " of " + m.where()
                    + " is not a generated protobuf message (no static getDefaultInstance())");
        }
    }

    public synchronized Map<String, Running> running() {
        return Map.copyOf(running);
    }

    @Override
    public synchronized void stop() {
        List<Running> all = new ArrayList<>(running.values());
        running.clear();
        for (Running r : all) {
            r.subscription().close();
            r.dispatcher().close();
            r.scope().close();
        }
        started = false;
    }

    @Override
    public boolean isRunning() {
        return started;
    }

    /** After the relay (so a service consuming its own topic starts publishing first), before web servers. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 2048;
    }
}
