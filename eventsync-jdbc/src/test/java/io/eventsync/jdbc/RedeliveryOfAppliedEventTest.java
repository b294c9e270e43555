package io.eventsync.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.dispatch.Dispatcher;
import io.eventsync.envelope.EnvelopeCodec;
import io.eventsync.envelope.EnvelopeValidator;
import io.eventsync.envelope.Events;
import io.eventsync.envelope.TypeRegistry;
import io.eventsync.handler.Handler;
import io.eventsync.handler.HandlerOptions;
import io.eventsync.handler.HandlerRegistry;
import io.eventsync.handler.Outcome;
import io.eventsync.handler.RetryPolicy;
import io.eventsync.jdbc.test.AccountChanged;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.transport.Publisher;
import io.eventsync.transport.Subscription;
import io.eventsync.transport.SubscriptionSpec;
import io.eventsync.v1.Envelope;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Found by {@link ScaleOutCrashTest}: a consumer applies {@code k#1}, then {@code k#2} fails and parks
 * {@code k}; the consumer dies (or loses the group lease) before its offset covers {@code k#1}, so the
 * instance that takes over, or the same one later, gets {@code k#1} again. That redelivery was applied already: it must be a counted duplicate, not
 * a HELD letter behind {@code k#2} (which would list an applied event as not applied, out of its
 * key's version order).
 */
@Tag("database")
class RedeliveryOfAppliedEventTest {
    private static final String TOPIC = "accounts";
    private static final String GROUP = "accounts-copy";
    private static final EnvelopeCodec CODEC = EnvelopeCodec.defaults();

    private static Dispatcher dispatcher(JdbcApplyScope scope, JdbcDeadLetters deadLetters) {
        Handler<Message> rejectsVersionTwo = (payload, ctx) -> ctx.envelope().getSequence() == 2
                ? Outcome.reject("poisoned for the test") : Outcome.applied();
        return Dispatcher.builder(GROUP)
                .handlers(HandlerRegistry.builder().on(AccountChanged.getDescriptor(), rejectsVersionTwo,
                        HandlerOptions.custom().retryPolicy(RetryPolicy.custom().maxAttempts(1).build()).build())
                        .build())
                .types(TypeRegistry.builder().add(AccountChanged.getDefaultInstance()).build())
                .codec(CODEC).validator(EnvelopeValidator.defaults())
                .applyScope(scope).deadLetters(deadLetters).lanes(2).build();
    }

    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void anAppliedEventDeliveredAgainToAnotherInstanceAfterItsKeyParkedIsADuplicateNotAHeldLetter(TestDb.Kind kind)
            throws Exception {
        redeliverAfterParking(kind, false);
    }

    /** The same instance gets it again (it lost and regained the group lease): it remembers the key parked. */
    @ParameterizedTest
    @EnumSource(TestDb.Kind.class)
    void anAppliedEventDeliveredAgainToTheInstanceThatParkedItsKeyIsADuplicateNotAHeldLetter(TestDb.Kind kind)
            throws Exception {
        redeliverAfterParking(kind, true);
    }

    private void redeliverAfterParking(TestDb.Kind kind, boolean sameInstance) throws Exception {
        try (TestDb db = TestDb.create(kind, 16).withConsumerTables()) {
            EmbeddedLog log = EmbeddedLog.builder().dataSource(db.dataSource()).leaseDuration(Duration.ofSeconds(1))
                    .build();
            Publisher publisher = log.publisher(TOPIC);
            Inbox inbox = Inbox.builder(db.dataSource()).build();
            JdbcDeadLetters deadLetters = JdbcDeadLetters.create(db.dataSource());
            try (JdbcApplyScope scope = JdbcApplyScope.builder(inbox).deadLetters(deadLetters).build()) {
                Dispatcher first = dispatcher(scope, deadLetters);
                Subscription subscription = log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), first);
                for (long v = 1; v <= 2; v++) {
                    Envelope e = Events.create(Accounts.SOURCE, "k", v, Accounts.account("k", v));
                    publisher.send(new OutboundEvent(e, CODEC.encode(e))).get(10, TimeUnit.SECONDS);
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> deadLetters.byKey(GROUP, "k").size() == 1
                        && db.count("SELECT COUNT(*) FROM eventsync_offsets WHERE next_offset = 2") == 1);
                subscription.close();
                if (!sameInstance) {
                    first.close();
                }
                // The consumer's offset did not cover k#1 when it stopped reading: it is delivered again.
                db.execute("UPDATE eventsync_offsets SET next_offset = 0");

                Dispatcher next = sameInstance ? first : dispatcher(scope, deadLetters);
                subscription = log.subscribe(SubscriptionSpec.fanout(TOPIC, GROUP), next);
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> db.count("SELECT COUNT(*) FROM eventsync_offsets WHERE next_offset = 2") == 1);
                subscription.close();
                next.close();
            }
            List<DeadLetter> letters = deadLetters.byKey(GROUP, "k");
            assertThat(letters).extracting(l -> l.kind() + " " + CODEC.decode(l.bytes()).getSequence())
                    .containsExactly("FAILED 2");
            assertThat(db.count("SELECT COUNT(*) FROM eventsync_inbox")).isEqualTo(1);
        }
    }
}
