package io.eventsync.bench;

import io.eventsync.http.FeedClient;
import io.eventsync.http.FeedServer;
import io.eventsync.http.HttpFeedTransport;
import io.eventsync.http.JdbcLogFeedSource;
import io.eventsync.http.PositionStore;
import io.eventsync.jdbc.EmbeddedLog;
import io.eventsync.jdbc.Offsets;
import io.eventsync.jdbc.SchemaNames;
import io.eventsync.kafka.KafkaTransport;
import io.eventsync.kafka.local.LocalKafka;
import io.eventsync.nats.NatsTransport;
import io.eventsync.rabbitmq.RabbitTransport;
import io.eventsync.transport.DeliveryHandler;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One table of transports under the same workload ({@link EndToEndRig}), outbox commit on PostgreSQL to
 * copy commit on PostgreSQL: events/s at saturation, as a share of the writers' own commit rate in
 * that phase, and freshness p50/p99 at half that rate.
 *
 * <ul>
 *   <li>{@code log}: the embedded log in the source database.</li>
 *   <li>{@code kafka}: a {@link LocalKafka} KRaft broker in a child JVM (started for the run, stopped
 *       after); {@link KafkaTransport} defaults: idempotent producer, acks=all, broker-default
 *       partitions (1).</li>
 *   <li>{@code nats}: NATS JetStream at {@code -Dnats.url} (default {@code nats://127.0.0.1:4222}),
 *       {@link NatsTransport} defaults (file stream, limits retention, pull consumer, explicit ack);
 *       the stream is deleted after the run.</li>
 *   <li>{@code rabbitmq}: RabbitMQ at {@code -Drabbit.host}:5672 guest/guest, {@link RabbitTransport}
 *       defaults (publisher confirms, persistent messages, one quorum queue per group, prefetch 256);
 *       exchange and queues are deleted after the run.</li>
 *   <li>{@code http}: the relay appends to the embedded log, a {@link FeedServer} serves it on
 *       loopback, an {@link HttpFeedTransport} pulls it into the copy.</li>
 * </ul>
 *
 * <p>Each run has its own source and copy schemas (dropped after) and a unique topic. Run through
 * {@code bench/run-transports.sh}, or: {@code java -cp eventsync-bench/target/benchmarks.jar
 * io.eventsync.bench.TransportBench [log,kafka,nats,rabbitmq,http]} with {@code -Devents=20000
 * -Dseconds=10 -Dbacklog=5000 -Dwriters=8 -Dout=bench-results/transports.txt -Dappend=false}.
 */
public final class TransportBench {
    private static final int EVENTS = Integer.getInteger("events", 20_000);
    private static final int SECONDS = Integer.getInteger("seconds", 10);
    private static final int BACKLOG = Integer.getInteger("backlog", 5_000);
    private static final String NATS_URL = System.getProperty("nats.url", "nats://127.0.0.1:4222");
    private static final String RABBIT_HOST = System.getProperty("rabbit.host", "127.0.0.1");
    private static final String TOKEN = "bench-token-0123456789abcdef";

    private TransportBench() {
    }

    public static void main(String[] args) throws Exception {
        List<String> which = List.of((args.length > 0 ? args[0] : "log,kafka,nats,rabbitmq,http").split(","));
        Path out = Path.of(System.getProperty("out", "bench-results/transports.txt"));
        // -Dappend=true adds the rows to an existing table (bench/run-transports.sh runs one JVM per transport).
        boolean append = Boolean.getBoolean("append") && Files.exists(out);
        List<String> lines = new ArrayList<>();
        lines.add("# eventsync transports, outbox commit on PostgreSQL -> copy commit on PostgreSQL, " + Instant.now());
        lines.add("");
        lines.add("Same workload for every row: " + EndToEndRig.WRITERS + " writer threads commit a business row + outbox row"
                + " per transaction (" + EndToEndRig.KEYS + " keys); relay -> transport -> Dispatcher ("
                + EndToEndRig.LANES + " lanes) + JdbcApplyScope + CopyTable, one copy transaction per event."
                + " Warm-up: a backlog of " + BACKLOG + " events drained by the consumer alone; saturation: " + EVENTS
                + " events unpaced (first source commit -> last copy commit); freshness: source commit -> copy commit"
                + " of every event, writers paced at half the saturation rate for " + SECONDS + " s.");
        lines.add("Machine: " + Runtime.getRuntime().availableProcessors() + " cores shared with other work (load average "
                + loadAverage() + " at start): writers, relay, consumer, PostgreSQL and the broker all compete for"
                + " them, so the figures are noisy and comparative, not capacity numbers.");
        lines.add("");
        lines.add("| transport | events/s at saturation | % of the writers' own commit rate | half rate (events/s) |"
                + " freshness p50 | freshness p99 |");
        lines.add("|---|---:|---:|---:|---:|---:|");
        int header = lines.size();
        for (String name : which) {
            System.out.println("running " + name + " ...");
            String row;
            try {
                EndToEndRig.Result r = run(name.trim());
                row = String.format(Locale.ROOT, "| %s | %.0f | %.0f%% (writers %.0f/s) | %.0f | %.1f ms | %.1f ms |",
                        label(name.trim()), r.rate(), 100 * r.rate() / r.writerRate(), r.writerRate(), r.halfRate(),
                        r.p50(), r.p99());
            } catch (Exception | Error e) {
                e.printStackTrace();
                row = "| " + label(name.trim()) + " | failed: " + e + " | | | | |";
            }
            System.out.println("measured " + row);
            lines.add(row);
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        if (append) {
            Files.write(out, lines.subList(header, lines.size()), java.nio.file.StandardOpenOption.APPEND);
        } else {
            Files.write(out, lines);
        }
        Files.readAllLines(out).forEach(System.out::println);
        System.out.println("written to " + out.toAbsolutePath());
        System.exit(0);
    }

    private static String label(String name) {
        return switch (name) {
            case "log" -> "embedded log (PostgreSQL table)";
            case "kafka" -> "Kafka 4.3.1 (LocalKafka child JVM, acks=all, idempotent, 1 partition)";
            case "nats" -> "NATS JetStream (file stream, pull consumer)";
            case "rabbitmq" -> "RabbitMQ (confirms, persistent, 1 quorum queue)";
            case "http" -> "HTTP feed (embedded log -> FeedServer -> HttpFeedTransport, loopback)";
            default -> name;
        };
    }

    private static EndToEndRig.Result run(String name) throws Exception {
        String topic = "bench_" + name + "_" + EndToEndRig.suffix();
        EndToEndRig rig = new EndToEndRig();
        return switch (name) {
            case "log" -> rig.run(EndToEndRig.pgPools(), EndToEnd::embeddedLog, topic, BACKLOG, EVENTS, SECONDS);
            case "kafka" -> {
                try (LocalKafka kafka = LocalKafka.start()) {
                    yield rig.run(EndToEndRig.pgPools(), (pools, s, c) -> new EndToEndRig.Opened(
                            KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers()).build(), () -> { }),
                            topic, BACKLOG, EVENTS, SECONDS);
                }
            }
            case "nats" -> rig.run(EndToEndRig.pgPools(), (pools, s, c) -> nats(topic), topic, BACKLOG, EVENTS, SECONDS);
            case "rabbitmq" -> rig.run(EndToEndRig.pgPools(), (pools, s, c) -> rabbit(topic), topic, BACKLOG, EVENTS, SECONDS);
            case "http" -> rig.run(EndToEndRig.pgPools(), (pools, s, c) -> http(pools, s, c, topic), topic, BACKLOG, EVENTS,
                    SECONDS);
            default -> throw new IllegalArgumentException("unknown transport '" + name
                    + "': expected log, kafka, nats, rabbitmq or http");
        };
    }

    private static EndToEndRig.Opened nats(String topic) {
        NatsTransport nats = NatsTransport.builder().server(NATS_URL).connectionName("eventsync-bench").build();
        return new EndToEndRig.Opened(nats, () -> {
            try {
                nats.connection().jetStreamManagement().deleteStream(nats.streamName(topic));
            } catch (Exception e) {
                System.err.println("could not delete NATS stream " + nats.streamName(topic) + ": " + e);
            }
        });
    }

    private static EndToEndRig.Opened rabbit(String topic) {
        RabbitTransport rabbit = RabbitTransport.builder().host(RABBIT_HOST).connectionName("eventsync-bench").build();
        return new EndToEndRig.Opened(rabbit, () -> {
            try (var channel = rabbit.publishingConnection().createChannel()) {
                for (String queue : rabbit.queueNames(SubscriptionSpec.fanout(topic, topic + "_copy"))) {
                    channel.queueDelete(queue);
                }
                channel.queueDelete(rabbit.unroutedQueueName(topic));
                channel.exchangeDelete(rabbit.exchangeName(topic));
                channel.exchangeDelete(rabbit.unroutedQueueName(topic));
            } catch (Exception e) {
                System.err.println("could not delete RabbitMQ queues of " + topic + ": " + e);
            }
        });
    }

    /** Relay -> embedded log in the source schema; FeedServer serves it; the copy pulls over HTTP. */
    private static EndToEndRig.Opened http(EndToEndRig.Pools pools, SchemaNames sourceNames, SchemaNames copyNames,
                                           String topic) {
        EmbeddedLog log = EmbeddedLog.builder().dataSource(pools.source()).names(sourceNames).build();
        JdbcLogFeedSource feed = JdbcLogFeedSource.builder(pools.source()).names(sourceNames).build();
        FeedServer server = FeedServer.builder().source(feed).feed(topic).sourceName(EndToEndRig.SOURCE)
                .client("copy", TOKEN).rateLimit(1000, 1000).maxPageSize(2000).build().start();
        HttpFeedTransport pull = HttpFeedTransport.builder(FeedClient.builder(server.uri()).token(TOKEN).build())
                .pageSize(2000).positions(PositionStore.of(Offsets.in(pools.copy(), copyNames))).build();
        Transport composite = new Transport() {
            @Override
            public String name() {
                return "http";
            }

            @Override
            public Publisher publisher(String t) {
                return log.publisher(t);
            }

            @Override
            public Subscription subscribe(SubscriptionSpec spec, DeliveryHandler handler) {
                return pull.subscribe(spec, handler);
            }

            @Override
            public void close() {
                pull.close();
                server.close();
                feed.close();
                log.close();
            }
        };
        return new EndToEndRig.Opened(composite, () -> { });
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "unknown";
        }
    }
}
