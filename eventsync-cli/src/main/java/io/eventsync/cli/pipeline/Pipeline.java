package io.eventsync.cli.pipeline;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.cli.pipeline.PipelineConfig.ConsumeConfig;
import io.eventsync.cli.pipeline.PipelineConfig.Database;
import io.eventsync.cli.pipeline.PipelineConfig.RelayConfig;
import io.eventsync.cli.pipeline.PipelineConfig.RetentionConfig;
import io.eventsync.cli.pipeline.PipelineConfig.WalConfig;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.http.FeedClient;
import io.eventsync.http.HttpFeedTransport;
import io.eventsync.http.PositionStore;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.BinlogRelay;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.EventsyncSchema;
import io.eventsync.jdbc.FreshnessTable;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.Retention;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.jdbc.WalRelay;
import io.eventsync.jdbc.WalSlot;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.direct.DirectPublisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running pipeline: the relay of a source outbox and/or a consumer applying a topic to copy tables.
 * {@link #close()} stops in the safe order: stop taking deliveries, let in-flight events finish and
 * commit (their offsets are acknowledged), stop the relay after its current batch, then close the
 * transport and the pools. What was not acknowledged is delivered again on the next start, where the
 * inbox makes it a no-op if it had been applied.
 */
public final class Pipeline implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);

    private final Deque<AutoCloseable> open = new ArrayDeque<>();
    private final Map<String, HikariDataSource> pools = new HashMap<>();
    private volatile Dispatcher dispatcher;

    private Pipeline() {}

    /** The consumer's dispatcher, when the pipeline consumes (for status lines and health). */
    public java.util.Optional<Dispatcher> dispatcher() {
        return java.util.Optional.ofNullable(dispatcher);
    }

    /** Connects and starts everything the configuration declares. */
    public static Pipeline start(PipelineConfig config, MeterRegistry meters) {
        Pipeline pipeline = new Pipeline();
        try {
            pipeline.startAll(config, meters);
            return pipeline;
        } catch (RuntimeException e) {
            pipeline.close();
            throw e;
        }
    }

    private void startAll(PipelineConfig config, MeterRegistry meters) {
        if (config.relay().isPresent() && config.relay().get().wal().isPresent()) {
            // Refused before anything is installed or opened where logical replication is off; the message says why.
            WalSlot.requireLogical(pool(config.name() + "-relay", config.relay().get().database()));
        }
        if (config.relay().isPresent() && config.relay().get().binlog().isPresent()) {
            // Likewise where the binlog is off or not in ROW format.
            BinlogRelay.requireRowBinlog(pool(config.name() + "-relay", config.relay().get().database()));
        }
        if (config.transport().kind().equals("direct")) {
            startDirect(config, meters);
            return;
        }
        Transport transport = transport(config, meters);
        open.push(transport);
        if (config.relay().isPresent()) {
            RelayConfig relay = config.relay().get();
            DataSource db = pool(config.name() + "-relay", relay.database());
            EventsyncSchema.install(db, names(relay.database()));
            Publisher publisher = transport.publisher(relay.topic());
            open.push(publisher);
            if (relay.wal().isPresent()) {
                open.push(walRelay(relay, relay.wal().get(), db, publisher, meters));
            } else if (relay.binlog().isPresent()) {
                open.push(BinlogRelay.builder().dataSource(db).names(names(relay.database())).source(relay.source())
                        .createPosition(relay.binlog().get().createPosition())
                        .freshnessHeartbeatInterval(relay.heartbeatInterval())
                        .publisher(publisher).meterRegistry(meters).build().start());
                log.info("relaying the events of {} from the binlog to topic {} on {}", relay.source(), relay.topic(),
                        transport.name());
            } else {
                Relay running = Relay.builder().dataSource(db).names(names(relay.database())).source(relay.source())
                        .publisher(publisher).heartbeatInterval(relay.heartbeatInterval()).meterRegistry(meters)
                        .build().start();
                open.push(running);
                log.info("relaying the outbox of {} to topic {} on {}", relay.source(), relay.topic(), transport.name());
            }
        }
        if (config.consume().isPresent()) {
            consume(config, config.consume().get(), transport, meters);
        }
    }

    /**
     * transport.kind: direct: the consumer's dispatcher first, then a {@link DirectPublisher} into it as the
     * WAL relay's publisher; closed in the reverse order (relay, publisher, dispatcher), so the slot is
     * confirmed only past what the copy committed.
     */
    private void startDirect(PipelineConfig config, MeterRegistry meters) {
        RelayConfig relay = config.relay().orElseThrow();
        ConsumeConfig consume = config.consume().orElseThrow();
        HikariDataSource copyDb = pool(config.name() + "-consume", consume.database());
        SchemaNames copyNames = names(consume.database());
        Dispatcher dispatcher = dispatcher(config, copyDb, meters, open);
        this.dispatcher = dispatcher;
        RetentionConfig retention = config.retention();
        open.push(Retention.builder(consume.group())
                .inbox(Inbox.builder(copyDb).schema(copyNames).dedupWindow(retention.inbox()).build())
                .tombstones(copyDb, consume.tables()).every(retention.every()).meterRegistry(meters).build().start());
        DirectPublisher publisher = DirectPublisher.to(relay.topic(), dispatcher);
        open.push(publisher);
        DataSource db = pool(config.name() + "-relay", relay.database());
        EventsyncSchema.install(db, names(relay.database()));
        open.push(walRelay(relay, relay.wal().orElseThrow(), db, publisher, meters));
        log.info("direct: the WAL relay of {} hands its events to group {} in this process ({} table(s))",
                relay.source(), consume.group(), consume.tables().size());
    }

    /** relay.mode: wal: the relay reads the slot (created on a first run when create_slot is set). */
    private static WalRelay walRelay(RelayConfig relay, WalConfig wal, DataSource db, Publisher publisher,
                                     MeterRegistry meters) {
        WalRelay running = WalRelay.builder().dataSource(db).names(names(relay.database())).source(relay.source())
                .slot(wal.slot()).publication(wal.publication()).createSlot(wal.createSlot())
                .freshnessHeartbeatInterval(relay.heartbeatInterval())
                .publisher(publisher).meterRegistry(meters).build().start();
        log.info("relaying the events of {} from the WAL (slot {}, publication {}) to topic {}", relay.source(),
                wal.slot(), wal.publication(), relay.topic());
        return running;
    }

    private void consume(PipelineConfig config, ConsumeConfig consume, Transport transport, MeterRegistry meters) {
        HikariDataSource db = pool(config.name() + "-consume", consume.database());
        SchemaNames names = names(consume.database());
        Dispatcher dispatcher = dispatcher(config, db, meters, open);
        this.dispatcher = dispatcher;
        SubscriptionSpec spec = consume.queue() ? SubscriptionSpec.queue(consume.topic(), consume.group())
                : SubscriptionSpec.fanout(consume.topic(), consume.group());
        RetentionConfig retention = config.retention();
        open.push(Retention.builder(consume.group())
                .inbox(Inbox.builder(db).schema(names).dedupWindow(retention.inbox()).build())
                .tombstones(db, consume.tables()).every(retention.every()).meterRegistry(meters).build().start());
        Subscription subscription = transport instanceof EmbeddedLog log
                ? log.subscribe(spec, dispatcher, Offsets.in(db, names))
                : transport.subscribe(spec, dispatcher);
        // Closed first on shutdown: no new deliveries while the dispatcher drains.
        open.push(subscription);
        log.info("consuming topic {} as group {} into {} table(s)", consume.topic(), consume.group(),
                consume.tables().size());
    }

    /**
     * The consumer's dispatcher (handlers from the mappings, JDBC apply scope, dead letters in the copy's
     * database), not subscribed to anything: {@code run} subscribes it, {@code dlq replay} uses it alone.
     * What must be closed is pushed on {@code open}, the dispatcher last.
     */
    public static Dispatcher dispatcher(PipelineConfig config, DataSource db, MeterRegistry meters,
                                        Deque<AutoCloseable> open) {
        ConsumeConfig consume = config.consume().orElseThrow(() -> new io.eventsync.ConfigException(
                config.file() + ": declares no consume section"));
        SchemaNames names = names(consume.database());
        EventsyncSchema.install(db, names);
        HandlerOptions options = HandlerOptions.custom().timeout(consume.handlerTimeout())
                .retryPolicy(RetryPolicy.custom().maxAttempts(consume.maxAttempts()).build()).build();
        HandlerRegistry.Builder handlers = HandlerRegistry.builder();
        for (CopyTable table : consume.tables()) {
            if (consume.createTables()) {
                table.createTable(db);
            }
            table.registerOn(handlers, options);
        }
        Inbox inbox = Inbox.builder(db).schema(names).build();
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(db, names);
        JdbcApplyScope scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).meterRegistry(meters).build();
        open.push(scope);
        Dispatcher dispatcher = Dispatcher.builder(consume.group())
                .handlers(handlers.build())
                .types(config.types())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(consume.lanes())
                .applyConcurrency(consume.applyConcurrency())
                .maxBatch(consume.maxBatch())
                .meterRegistry(meters)
                .freshnessListener(FreshnessTable.in(db, names)::record)
                .build();
        open.push(dispatcher);
        return dispatcher;
    }

    private Transport transport(PipelineConfig config, MeterRegistry meters) {
        PipelineConfig.TransportConfig t = config.transport();
        if (t.kind().equals("log")) {
            DataSource db = pool(config.name() + "-log", t.database());
            EventsyncSchema.install(db, names(t.database()));
            return EmbeddedLog.builder().dataSource(db).names(names(t.database()))
                    .retention(config.retention().log(), config.retention().every()).build();
        }
        if (t.kind().equals("http")) {
            return httpFeed(config, meters);
        }
        return Transports.open(t, config.name(), meters);
    }

    /**
     * Pulls a feed server's change feed; the group's position is kept in the copy's database
     * ({@code eventsync_offsets}, as for the embedded log). With {@code on_gone: rebootstrap} a 410 bootstraps
     * the copy again from the named snapshot; otherwise the subscription stops and {@code /health} says why.
     */
    private Transport httpFeed(PipelineConfig config, MeterRegistry meters) {
        PipelineConfig.TransportConfig t = config.transport();
        ConsumeConfig consume = config.consume().orElseThrow(); // the loader requires it for http
        DataSource copyDb = pool(config.name() + "-consume", consume.database());
        EventsyncSchema.install(copyDb, names(consume.database()));
        FeedClient client = FeedClient.builder(java.net.URI.create(t.servers())).token(t.http().token().value()).build();
        HttpFeedTransport.Builder b = HttpFeedTransport.builder(client)
                .positions(PositionStore.of(Offsets.in(copyDb, names(consume.database())))).meterRegistry(meters);
        t.http().pageSize().ifPresent(b::pageSize);
        t.http().pollWait().ifPresent(b::pollWait);
        consume.rebootstrapSnapshot().ifPresent(snapshot -> b.rebootstrapWhenGone(consume.topic(), snapshot));
        log.info("pulling feed {} from {} ({} when the feed no longer retains the position)", consume.topic(),
                t.servers(), consume.rebootstrapSnapshot().map(s -> "bootstrapping again from snapshot " + s)
                        .orElse("stopping"));
        return b.build();
    }

    public static SchemaNames names(Database database) {
        return database.schema() == null ? SchemaNames.defaults() : SchemaNames.of(database.schema());
    }

    private HikariDataSource pool(String name, Database database) {
        // One pool per distinct database, shared by relay, log and consumer when they are the same.
        String identity = database.jdbcUrl() + "\u0000" + database.user();
        HikariDataSource existing = pools.get(identity);
        if (existing != null) {
            return existing;
        }
        HikariDataSource pool = openPool(name, database);
        pools.put(identity, pool);
        return pool;
    }

    /** A connection pool for {@code database}; the caller closes it. */
    public static HikariDataSource openPool(String name, Database database) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("eventsync-" + name);
        hikari.setJdbcUrl(h2KeepsOpenAtExit(database.jdbcUrl()));
        if (database.user() != null) {
            hikari.setUsername(database.user());
        }
        hikari.setPassword(database.password().value());
        hikari.setMaximumPoolSize(database.poolSize());
        return new HikariDataSource(hikari);
    }

    /**
     * H2 closes its databases in its own JVM shutdown hook, racing ours: on SIGTERM the in-flight
     * events could not commit. Unless the URL says otherwise, H2 is told to leave that to us.
     */
    static String h2KeepsOpenAtExit(String url) {
        if (!url.startsWith("jdbc:h2:") || url.toUpperCase(java.util.Locale.ROOT).contains("DB_CLOSE_ON_EXIT")
                || url.startsWith("jdbc:h2:mem:") || url.startsWith("jdbc:h2:tcp:") || url.startsWith("jdbc:h2:ssl:")) {
            return url;
        }
        return url + ";DB_CLOSE_ON_EXIT=FALSE";
    }

    @Override
    public void close() {
        while (!open.isEmpty()) {
            AutoCloseable next = open.pop();
            try {
                next.close();
            } catch (Exception e) {
                log.warn("closing {} failed: {}", next, e.toString());
            }
        }
        pools.values().forEach(HikariDataSource::close);
        pools.clear();
    }
}
