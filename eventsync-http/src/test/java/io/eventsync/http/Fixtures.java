package io.eventsync.http;

import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.Events;
import io.eventsync.http.test.ItemChanged;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Shared test values: tokens, topics, events. */
final class Fixtures {
    static final String TOKEN = "token-of-the-copy-service-0001";
    static final String OTHER_TOKEN = "token-of-the-audit-service-002";
    static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();

    private Fixtures() {}

    static String topic() {
        return "items-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static Envelope item(String id, long version, String name, long quantity) {
        return Events.create("inventory", id, version,
                ItemChanged.newBuilder().setId(id).setName(name).setQuantity(quantity).build());
    }

    /** Appends {@code n} events item-0..item-(n-1) at version 1 and returns them. */
    static List<Envelope> appendItems(TestDb db, String topic, int n) {
        List<Envelope> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Envelope e = item("item-" + i, 1, "name-" + i, i);
            db.append(topic, e);
            events.add(e);
        }
        return events;
    }

    static FeedServer.Builder server(FeedSource source, String topic) {
        return FeedServer.builder().source(source).feed(topic)
                .client("copy", TOKEN).client("audit", OTHER_TOKEN)
                .maxWait(Duration.ofSeconds(10)).jsonType(ItemChanged.getDescriptor());
    }
}
