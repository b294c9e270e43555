package io.eventsync.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.eventsync.dispatch.Dispatcher;
import io.eventsync.dispatch.Invocation;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.test.dispatch.v1.Step;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.transport.inprocess.InProcessTransport;
import io.eventsync.v1.Envelope;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The OpenTelemetry API is optional: an application without it has none of its classes. Runs a traced
 * event through the writer's stamp, a traced publisher and a dispatcher (tracing on, the default) in a
 * class loader whose class path is this test's without the OpenTelemetry jars: it is applied, and the
 * only OpenTelemetry class ever asked for is the one {@link Tracing} probes for, once.
 */
class TracingWithoutOpenTelemetryTest {

    /** Class loads of {@code io.opentelemetry} names, as the JVM and the code under test asked for them. */
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
    void aTracedEventIsWrittenRelayedAndAppliedWithoutOpenTelemetryOnTheClassPath() throws Exception {
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

            assertThat(run.call()).isEqualTo("applied, tracing available: false");
            assertThat(loader.asked).containsExactly("io.opentelemetry.api.GlobalOpenTelemetry");
        }
    }

    /** Runs in the class loader without OpenTelemetry; names no OpenTelemetry type. */
    public static final class Run implements Callable<String> {
        @Override
        public String call() throws Exception {
            Envelope e = Events.create("shop", "k", 1, Step.newBuilder().setKey("k").setStep(1).build()).toBuilder()
                    .setTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").build();
            byte[] bytes = Tracing.stamp(e, e.toByteArray(), 1 << 20);
            CountDownLatch applied = new CountDownLatch(1);
            try (InProcessTransport transport = InProcessTransport.create();
                 Dispatcher dispatcher = Dispatcher.builder("copy")
                         .handlers(HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
                             applied.countDown();
                             return Outcome.applied();
                         }).build())
                         .types(TypeRegistry.builder().add(Step.getDefaultInstance()).build())
                         .applyScope(Invocation::proceed)
                         .build();
                 Subscription ignored = transport.subscribe(SubscriptionSpec.fanout("orders", "copy"), dispatcher)) {
                Publisher publisher = Tracing.producer(transport.publisher("orders"));
                publisher.send(new OutboundEvent(e, bytes)).get(10, TimeUnit.SECONDS);
                return (applied.await(10, TimeUnit.SECONDS) ? "applied" : "not applied")
                        + ", tracing available: " + Tracing.available();
            }
        }
    }
}
