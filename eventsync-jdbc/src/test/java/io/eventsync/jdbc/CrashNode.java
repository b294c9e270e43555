package io.eventsync.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.SubscriptionSpec;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The process the crash test kills: the source's relay, the embedded log (in the source database)
 * and the copy's consumer (Dispatcher + JdbcApplyScope + CopyTable, offsets and inbox in the copy
 * database), all in one JVM, as a small service would run them. Runs until it is killed.
 *
 * <p>Arguments: PostgreSQL URL (database), source schema, copy schema.
 *
 * <p>The scale-out crash test runs the same parts in separate processes, selected by a first argument:
 * {@code relay URL sourceSchema} runs only the source's relay into the embedded log, and
 * {@code consumer URL sourceSchema copySchema nodeName} runs only one consumer of the copy's group
 * ({@link ScaleOutCopy}), active or standing by for the group lease.
 */
public final class CrashNode {
    static final String SOURCE = "accounts";
    static final String TOPIC = "accounts";
    static final String GROUP = "accounts-copy";

    private CrashNode() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "relay" -> relayOnly(args[1], args[2]);
            case "consumer" -> consumerOnly(args[1], args[2], args[3], args[4]);
            default -> allInOne(args);
        }
    }

    /** The source service's relay alone, publishing the outbox to the embedded log. */
    private static void relayOnly(String url, String source) throws Exception {
        SchemaNames sourceNames = SchemaNames.of(source);
        HikariDataSource sourceDb = ScaleOutCopy.pool(url + "?currentSchema=" + source, 3);
        EmbeddedLog log = EmbeddedLog.builder().dataSource(sourceDb).names(sourceNames)
                .leaseDuration(ScaleOutCopy.LEASE).build();
        Relay relay = Relay.builder()
                .dataSource(sourceDb).names(sourceNames).source(SOURCE)
                .publisher(log.publisher(TOPIC))
                .leaseDuration(ScaleOutCopy.LEASE)
                .build()
                .start();
        System.out.println("READY relay=" + relay.owner());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }

    /** One consumer of the copy's group alone: active while it holds the group lease, else a standby. */
    private static void consumerOnly(String url, String source, String copy, String node) throws Exception {
        SchemaNames sourceNames = SchemaNames.of(source);
        SchemaNames copyNames = SchemaNames.of(copy);
        HikariDataSource sourceDb = ScaleOutCopy.pool(url + "?currentSchema=" + source, 3);
        HikariDataSource copyDb = ScaleOutCopy.pool(url + "?currentSchema=" + copy, ScaleOutCopy.LANES + 2);
        EmbeddedLog log = EmbeddedLog.builder()
                .dataSource(sourceDb).names(sourceNames)
                .offsets(Offsets.in(copyDb, copyNames))
                .leaseDuration(ScaleOutCopy.LEASE)
                .batchSize(ScaleOutCopy.LOG_BATCH)
                .build();
        ScaleOutCopy consumer = new ScaleOutCopy(copyDb, copyNames, node);
        log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), consumer.dispatcher);
        System.out.println("READY consumer=" + node);
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }

    private static void allInOne(String[] args) throws Exception {
        String url = args[0];
        SchemaNames sourceNames = SchemaNames.of(args[1]);
        SchemaNames copyNames = SchemaNames.of(args[2]);
        HikariDataSource sourceDb = TestDb.pool(url + "?currentSchema=" + args[1], "postgres", 6);
        HikariDataSource copyDb = TestDb.pool(url + "?currentSchema=" + args[2], "postgres", 12);

        EmbeddedLog log = EmbeddedLog.builder()
                .dataSource(sourceDb).names(sourceNames)
                .offsets(Offsets.in(copyDb, copyNames))
                .leaseDuration(Duration.ofSeconds(1))
                .build();
        Relay relay = Relay.builder()
                .dataSource(sourceDb).names(sourceNames).source(SOURCE)
                .publisher(log.publisher(TOPIC))
                .leaseDuration(Duration.ofSeconds(1))
                .build()
                .start();

        CopyTable copy = Accounts.copyTable();
        Inbox inbox = Inbox.builder(copyDb).schema(copyNames).build();
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(copyDb, copyNames);
        JdbcApplyScope scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).build();
        HandlerOptions options = HandlerOptions.custom()
                .retryPolicy(RetryPolicy.custom().maxAttempts(50).initialBackoff(Duration.ofMillis(10))
                        .maxBackoff(Duration.ofMillis(500)).build())
                .build();
        Dispatcher dispatcher = Dispatcher.builder(GROUP)
                .handlers(copy.registerOn(HandlerRegistry.builder(), options).build())
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(8)
                .build();
        log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), dispatcher);
        System.out.println("READY relay=" + relay.owner());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }
}
