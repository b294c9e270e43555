package io.eventsync.kafka;

import com.google.protobuf.Message;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.CopyTable;
import io.eventsync.jdbc.Inbox;
import io.eventsync.jdbc.JdbcApplyScope;
import io.eventsync.jdbc.JdbcDeadLetters;
import io.eventsync.jdbc.Relay;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.SubscriptionSpec;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A process of the churn test, run until it is killed: either the relay of the source's outbox to the
 * Kafka topic, or one consumer of the copy's group applying the topic to the copy in PostgreSQL (inbox,
 * version-guarded copy table, dead letters and parked keys in the copy's database). The consumer's
 * handler rejects poison events, as a handler with a bug for some inputs would.
 *
 * <p>Arguments: {@code relay|consumer <bootstrap> <postgres url> <schema> <name>}: the source's schema
 * for the relay, the copy's for a consumer.
 */
public final class KafkaChurnNode {
    static final String SOURCE = "accounts";
    static final String TOPIC = "churn-accounts";
    static final String GROUP = "churn-copy";
    static final int PARTITIONS = 6;

    private KafkaChurnNode() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[1];
        // Few connections: the test shares PostgreSQL with the rest of the build.
        HikariDataSource db = pool(args[2] + "?currentSchema=" + args[3], args[0].equals("relay") ? 2 : 4);
        // The client id names this incarnation, so the test can tell its member in the group's description.
        KafkaTransport kafka = KafkaTransport.builder().bootstrapServers(bootstrap).partitions(PARTITIONS)
                .clientProperty("client.id", args[4] + "-" + ProcessHandle.current().pid()).build();
        if (args[0].equals("relay")) {
            Relay.builder().dataSource(db).names(SchemaNames.of(args[3])).source(SOURCE)
                    .publisher(kafka.publisher(TOPIC)).leaseDuration(Duration.ofSeconds(1)).build().start();
        } else {
            kafka.subscribe(SubscriptionSpec.queue(TOPIC, GROUP), dispatcher(db, SchemaNames.of(args[3]), true));
        }
        System.out.println("READY " + args[0]);
        System.out.flush();
        new CountDownLatch(1).await(); // until SIGKILL
    }

    /** The copy's consumer: the copy table behind a handler that rejects poison events while told to. */
    static Dispatcher dispatcher(HikariDataSource db, SchemaNames names, boolean rejectPoison) {
        CopyTable copy = copyTable();
        Handler<Message> apply = copy.handler();
        Handler<Message> handler = (payload, context) -> rejectPoison && ((AccountChanged) payload).getPoison()
                ? Outcome.reject("poison event: the handler refuses it until it is fixed")
                : apply.handle(payload, context);
        HandlerOptions options = HandlerOptions.custom()
                .retryPolicy(RetryPolicy.custom().maxAttempts(50).initialBackoff(Duration.ofMillis(10))
                        .maxBackoff(Duration.ofMillis(500)).build())
                .build();
        JdbcDeadLetters deadLetters = JdbcDeadLetters.create(db, names);
        JdbcApplyScope scope = JdbcApplyScope.builder(Inbox.builder(db).schema(names).build())
                .deadLetters(deadLetters).build();
        return Dispatcher.builder(GROUP)
                .handlers(HandlerRegistry.builder().on(AccountChanged.getDescriptor(), handler, options).build())
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(EnvelopeCodec.defaults())
                .validator(EnvelopeValidator.defaults())
                .applyScope(scope)
                .deadLetters(deadLetters)
                .lanes(4)
                .build();
    }

    static CopyTable copyTable() {
        return CopyTable.builder(AccountChanged.getDescriptor(), "accounts_copy")
                .key("account_id", "account_id")
                .column("balance_cents")
                .versionColumn("version")
                .build();
    }

    static HikariDataSource pool(String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("postgres");
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        return new HikariDataSource(config);
    }
}
