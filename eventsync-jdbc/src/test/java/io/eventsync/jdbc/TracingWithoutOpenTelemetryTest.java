package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OpenTelemetry API is optional: the outbox and the relay (tracing on, the default) write and relay
 * an event in a class loader whose class path is this test's without the OpenTelemetry jars, and the only
 * OpenTelemetry class ever asked for is the one core's {@code Tracing} probes for.
 */
class TracingWithoutOpenTelemetryTest {

    static final class NoOpenTelemetry extends URLClassLoader {
        final Set<String> asked = ConcurrentHashMap.newKeySet();

        NoOpenTelemetry(URL[] urls) {
            super(urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("io.opentelemetry.")) {
                asked.add(name);
            }
            return super.loadClass(name, resolve);
        }
    }

    @Test
    void theOutboxAndTheRelayWorkWithoutOpenTelemetryOnTheClassPath() throws Exception {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!new File(entry).getName().startsWith("opentelemetry-")) {
                urls.add(new File(entry).toURI().toURL());
            }
        }
        try (NoOpenTelemetry loader = new NoOpenTelemetry(urls.toArray(URL[]::new))) {
            assertThat(loader.getResource("io/opentelemetry/api/GlobalOpenTelemetry.class")).isNull();
            @SuppressWarnings("unchecked")
            Callable<String> run = (Callable<String>) Class.forName(Run.class.getName(), true, loader)
                    .getDeclaredConstructor().newInstance();

            assertThat(run.call()).isEqualTo("relayed");
            assertThat(loader.asked).containsExactly("io.opentelemetry.api.GlobalOpenTelemetry");
        }
    }

    /** Runs in the class loader without OpenTelemetry; names no OpenTelemetry type. */
    public static final class Run implements Callable<String> {
        @Override
        public String call() throws Exception {
            Class.forName("org.h2.Driver"); // registered from this loader, so the pool in this loader may use it
            CountDownLatch relayed = new CountDownLatch(2); // no heartbeats: every delivery is one of the events
            try (TestDatabase db = TestDatabase.create(TestDatabase.Kind.H2);
                 EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).names(db.names()).build();
                 Publisher publisher = log.publisher("orders");
                 Subscription ignored = log.subscribe(SubscriptionSpec.fanout("orders", "reader"), d -> {
                     relayed.countDown();
                     d.ack();
                 });
                 Relay relay = Relay.builder().dataSource(db.dataSource()).names(db.names()).source("shop")
                         .publisher(publisher).heartbeatInterval(Duration.ZERO)
                         .meterRegistry(new SimpleMeterRegistry()).build().start()) {
                try (Connection c = db.dataSource().getConnection()) {
                    c.setAutoCommit(false);
                    Outbox.of("shop", db.names()).append(c, TestEvents.event("shop", "a", 1).toBuilder()
                            .setTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").build(),
                            TestEvents.event("shop", "b", 1));
                    c.commit();
                }
                return relayed.await(30, TimeUnit.SECONDS) ? "relayed" : "not relayed";
            }
        }
    }
}
