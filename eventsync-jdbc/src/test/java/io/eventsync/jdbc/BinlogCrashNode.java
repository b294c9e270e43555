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
 * The process {@link BinlogCrashTest} kills: the source's binlog relay, the embedded log (in the source
 * database) and the copy's consumer (Dispatcher + JdbcApplyScope + CopyTable, offsets and inbox in the
 * copy database), in one JVM. Runs until it is killed.
 *
 * <p>Arguments: MariaDB base URL of the binlog server ({@code jdbc:mariadb://host:port/}), source
 * database, copy database.
 */
public final class BinlogCrashNode {
    static final String SOURCE = "accounts";
    static final String TOPIC = "accounts";
    static final String GROUP = "accounts-copy";

    private BinlogCrashNode() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        SchemaNames sourceNames = SchemaNames.of(args[1]);
        SchemaNames copyNames = SchemaNames.of(args[2]);
        HikariDataSource sourceDb = TestDatabase.pool(url + args[1] + "?user=root", 6);
        HikariDataSource copyDb = TestDatabase.pool(url + args[2] + "?user=root", 12);

        EmbeddedLog log = EmbeddedLog.builder()
                .dataSource(sourceDb).names(sourceNames)
                .offsets(Offsets.in(copyDb, copyNames))
                .leaseDuration(Duration.ofSeconds(1))
                .build();
        BinlogRelay relay = BinlogRelay.builder()
                .dataSource(sourceDb).names(sourceNames).source(SOURCE)
                .publisher(log.publisher(TOPIC))
                .leaseDuration(Duration.ofSeconds(1))
                .build()
                .start();

        Inbox inbox = Inbox.builder(copyDb).schema(copyNames).build();
        HandlerOptions options = HandlerOptions.custom()
                .retryPolicy(RetryPolicy.custom().maxAttempts(50).initialBackoff(Duration.ofMillis(10))
                        .maxBackoff(Duration.ofMillis(500)).build())
                .build();
        Dispatcher dispatcher = Dispatcher.builder(GROUP)
                .handlers(Accounts.copyTable().registerOn(HandlerRegistry.builder(), options).build())
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(JdbcApplyScope.builder(inbox).build())
                .deadLetters(JdbcDeadLetters.create(copyDb, copyNames))
                .lanes(8)
                .build();
        log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), dispatcher);
        System.out.println("READY relay=" + relay.owner());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }
}
