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
import io.eventsync.transport.Publisher;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.direct.DirectPublisher;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The process {@link WalCrashTest} kills: the source's WAL relay, the embedded log (in the source
 * database) and the copy's consumer (Dispatcher + JdbcApplyScope + CopyTable, offsets and inbox in the
 * copy schema), in one JVM. Runs until it is killed.
 *
 * <p>Arguments: PostgreSQL URL (database of the logical cluster), source schema, copy schema, slot, and
 * optionally the mode: {@code log} (the default, as above) or {@code direct}, where the relay hands its
 * events straight to the dispatcher through a {@link DirectPublisher} and there is no log; and the source
 * (default {@value #SOURCE}).
 */
public final class WalCrashNode {
    static final String SOURCE = "accounts";
    static final String TOPIC = "accounts";
    static final String GROUP = "accounts-copy";

    private WalCrashNode() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        SchemaNames sourceNames = SchemaNames.of(args[1]);
        SchemaNames copyNames = SchemaNames.of(args[2]);
        String slot = args[3];
        boolean direct = args.length > 4 && args[4].equals("direct");
        String source = args.length > 5 ? args[5] : SOURCE;
        HikariDataSource sourceDb = TestDatabase.pool(url + "?user=postgres&currentSchema=" + args[1], 6);
        HikariDataSource copyDb = TestDatabase.pool(url + "?user=postgres&currentSchema=" + args[2], 12);

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
        Publisher publisher;
        if (direct) {
            publisher = DirectPublisher.to(TOPIC, dispatcher);
        } else {
            EmbeddedLog log = EmbeddedLog.builder()
                    .dataSource(sourceDb).names(sourceNames)
                    .offsets(Offsets.in(copyDb, copyNames))
                    .leaseDuration(Duration.ofSeconds(1))
                    .build();
            log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), dispatcher);
            publisher = log.publisher(TOPIC);
        }
        WalRelay relay = WalRelay.builder()
                .dataSource(sourceDb).names(sourceNames).source(source).slot(slot).publication(slot)
                .publisher(publisher)
                .leaseDuration(Duration.ofSeconds(1))
                .build()
                .start();
        System.out.println("READY relay=" + relay.owner());
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }
}
