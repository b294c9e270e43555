package io.eventsync.kafka.local.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/** The files a local single-node KRaft broker starts from: server.properties and quiet logging configs. */
public final class BrokerConfiguration {
    private BrokerConfiguration() {
    }

    /**
     * Writes the configuration into {@code dataDirectory} and returns the server.properties path.
     *
     * @param overrides extra or overriding server.properties lines
     */
    public static Path write(Path dataDirectory, Path logDirectory, int brokerPort, int controllerPort,
                             Map<String, String> overrides) {
        Properties config = new Properties();
        config.put("process.roles", "broker,controller");
        config.put("node.id", "1");
        // A static quorum of this one node: formatting needs no --standalone/--initial-controllers then.
        config.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        config.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        config.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        config.put("controller.listener.names", "CONTROLLER");
        config.put("inter.broker.listener.name", "PLAINTEXT");
        config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        config.put("log.dirs", logDirectory.toString());
        // One node: every replication factor and ISR minimum is 1; small internal topics start fast.
        config.put("num.partitions", "1");
        config.put("default.replication.factor", "1");
        config.put("min.insync.replicas", "1");
        config.put("offsets.topic.replication.factor", "1");
        config.put("offsets.topic.num.partitions", "1");
        config.put("transaction.state.log.replication.factor", "1");
        config.put("transaction.state.log.min.isr", "1");
        config.put("transaction.state.log.num.partitions", "1");
        config.put("share.coordinator.state.topic.replication.factor", "1");
        config.put("share.coordinator.state.topic.min.isr", "1");
        config.put("group.initial.rebalance.delay.ms", "0");
        // Kafka 4 serves the consumer group protocol (KIP-848) by default. A member that dies is noticed
        // within 10 s instead of 45 s; the minimums are lowered so a test can shorten them further with
        // brokerProperty (group.coordinator.rebalance.protocols=classic turns the new protocol off).
        config.put("group.consumer.session.timeout.ms", "10000");
        config.put("group.consumer.min.session.timeout.ms", "1000");
        config.put("group.consumer.heartbeat.interval.ms", "1000");
        config.put("group.consumer.min.heartbeat.interval.ms", "250");
        config.put("group.min.session.timeout.ms", "1000");
        config.put("num.network.threads", "2");
        config.put("num.io.threads", "2");
        config.put("log.cleaner.threads", "1");
        config.putAll(overrides);
        Path file = dataDirectory.resolve("server.properties");
        try {
            Files.createDirectories(logDirectory);
            try (OutputStream out = Files.newOutputStream(file)) {
                config.store(out, "written by eventsync LocalKafka");
            }
            Files.writeString(logbackFile(dataDirectory), LOGBACK_CONFIG, StandardCharsets.UTF_8);
            Files.writeString(log4j2File(dataDirectory), LOG4J2_CONFIG, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the local Kafka configuration in " + dataDirectory, e);
        }
        return file;
    }

    public static Path logbackFile(Path dataDirectory) {
        return dataDirectory.resolve("logback.xml");
    }

    public static Path log4j2File(Path dataDirectory) {
        return dataDirectory.resolve("log4j2.properties");
    }

    // The broker logs through SLF4J; whichever binding the classpath has (logback in tests and the CLI,
    // log4j2 otherwise) gets a quiet configuration: warnings, plus the lines that say it started.
    private static final String LOGBACK_CONFIG = """
            <configuration>
              <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
                <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
              </appender>
              <logger name="kafka.server.KafkaRaftServer" level="INFO"/>
              <logger name="kafka.server.BrokerServer" level="INFO"/>
              <logger name="kafka.server.ControllerServer" level="INFO"/>
              <root level="WARN"><appender-ref ref="OUT"/></root>
            </configuration>
            """;

    private static final String LOG4J2_CONFIG = """
            appender.out.type=Console
            appender.out.name=OUT
            appender.out.layout.type=PatternLayout
            appender.out.layout.pattern=%d{HH:mm:ss.SSS} %-5level [%t] %c{1.} - %m%n
            rootLogger.level=WARN
            rootLogger.appenderRef.out.ref=OUT
            logger.raft.name=kafka.server.KafkaRaftServer
            logger.raft.level=INFO
            """;
}
