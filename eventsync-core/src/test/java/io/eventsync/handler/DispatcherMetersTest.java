package io.eventsync.handler;

import static io.eventsync.handler.Fixture.event;
import static io.eventsync.handler.Fixture.fast;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.eventsync.envelope.Events;
import io.eventsync.test.dispatch.v1.Other;
import io.eventsync.test.dispatch.v1.Step;
import io.micrometer.core.instrument.Meter;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Meters exist for the types a handler is registered for; whatever else arrives counts as {@code unknown}. */
class DispatcherMetersTest {
    private final Fixture f = new Fixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void typesWithoutAHandlerAreCountedUnderOneUnknownTagHoweverManyArrive() throws Exception {
        f.start(f.builder(HandlerRegistry.builder().on(Step.class, (step, ctx) -> {
            f.record(step, ctx.envelope());
            return Outcome.applied();
        }, fast()).build()));

        for (int i = 0; i < 30; i++) {
            // 30 distinct type strings off the wire: random names, and a real type nobody handles.
            f.deliver("p", event("u" + i, 1).toBuilder().setType("attacker.Random" + i).build());
        }
        f.deliver("p", Events.create("test", "other", 1, Other.newBuilder().setNote("x").build()));
        f.deliver("p", event("k", 1));
        await().until(() -> f.deadLetters.list(f.subscription).size() == 31 && f.appliedSteps("k").size() == 1);

        Set<String> typeTags = new TreeSet<>();
        for (Meter meter : f.meters.getMeters()) {
            String type = meter.getId().getTag("type");
            if (type != null) {
                typeTags.add(type);
            }
        }
        assertThat(typeTags).containsExactly(Step.getDescriptor().getFullName(), "unknown");
        assertThat(f.meters.find("eventsync.dispatcher.dead_lettered").tag("type", "unknown").counters()
                .stream().mapToDouble(c -> c.count()).sum()).isEqualTo(31);
        assertThat(f.meters.counter("eventsync.dispatcher.applied", "subscription", f.subscription,
                "type", Step.getDescriptor().getFullName()).count()).isEqualTo(1);
    }
}
