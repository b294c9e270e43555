package io.eventsync.kafka;

import io.eventsync.kafka.local.LocalKafka;

import static io.eventsync.kafka.TestEvents.envelope;
import static io.eventsync.kafka.TestEvents.outbound;
import static io.eventsync.kafka.TestEvents.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.eventsync.ConfigException;
import io.eventsync.kafka.TestEvents.Recorder;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class LocalKafkaTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Test
    void noEventIsLostAcrossABrokerRestartAndCloseLeavesNothingBehind() throws Exception {
        LocalKafka kafka = LocalKafka.start();
        Path data = kafka.dataDirectory();
        long[] lastPid = new long[1];
        assertThat(kafka.bootstrapServers()).startsWith("127.0.0.1:");
        try (kafka;
             KafkaTransport transport = KafkaTransport.builder().bootstrapServers(kafka.bootstrapServers())
                     .partitions(2).build()) {
            String topic = unique("restart");
            Recorder recorder = Recorder.acking();
            List<String> sent = new ArrayList<>();
            try (Subscription ignored = transport.subscribe(SubscriptionSpec.fanout(topic, unique("copy")), recorder);
                 Publisher publisher = transport.publisher(topic)) {
                sent.addAll(publish(publisher, 0, 40));
                await().atMost(DEADLINE).until(() -> recorder.deliveries.size() >= 40);
                long pidBefore = kafka.pid();

                kafka.restart();

                lastPid[0] = kafka.pid();
                assertThat(lastPid[0]).isNotEqualTo(pidBefore);
                assertThat(ProcessHandle.of(pidBefore).map(ProcessHandle::isAlive).orElse(false)).isFalse();
                sent.addAll(publish(publisher, 40, 40));
                await().atMost(DEADLINE).until(() -> recorder.ids().containsAll(sent));
            }
            assertThat(recorder.ids()).containsAll(sent);
            assertThat(Files.readString(kafka.logFile())).contains("eventsync: parent closed stdin");
        }
        // close(): the broker process is gone and its temporary data directory deleted
        assertThat(kafka.isRunning()).isFalse();
        assertThat(ProcessHandle.of(lastPid[0]).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(data).doesNotExist();
    }

    @Test
    void theBrokerDiesWhenTheJvmThatStartedItIsKilled() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process parent = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                LocalKafkaHolder.class.getName())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        Path data = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
            String line = CompletableFuture.supplyAsync(() -> readReadyLine(out)).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            String[] parts = line.split(" ");
            long brokerPid = Long.parseLong(parts[1]);
            data = Path.of(parts[2]);
            ProcessHandle broker = ProcessHandle.of(brokerPid).orElseThrow();
            assertThat(broker.isAlive()).isTrue();
            assertThat(broker.parent().map(ProcessHandle::pid)).contains(parent.pid());

            parent.toHandle().destroyForcibly(); // SIGKILL: no shutdown hook runs in the parent

            await().atMost(Duration.ofSeconds(60)).until(() -> !broker.isAlive());
        } finally {
            parent.destroyForcibly();
            if (data != null) {
                deleteRecursively(data);
            }
        }
    }

    @Test
    void builderRefusesATooSmallHeapNamingTheValue() {
        assertThatThrownBy(() -> LocalKafka.builder().heapMegabytes(16).start())
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("heapMegabytes")
                .hasMessageContaining("16");
    }

    private static String readReadyLine(BufferedReader out) {
        try {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("READY ")) {
                    return line;
                }
            }
            throw new AssertionError("the parent JVM exited before its broker was ready");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> publish(Publisher publisher, int from, int count) throws Exception {
        List<String> ids = new ArrayList<>();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            Envelope envelope = envelope("order-" + (i % 5), i + 1, "event " + i);
            ids.add(envelope.getId());
            sends.add(publisher.send(outbound(envelope)));
        }
        TestEvents.awaitSent(sends);
        return ids;
    }

    private static void deleteRecursively(Path root) throws Exception {
        if (Files.exists(root)) {
            try (Stream<Path> paths = Files.walk(root)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }
}
