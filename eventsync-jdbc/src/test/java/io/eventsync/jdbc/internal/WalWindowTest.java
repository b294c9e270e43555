package io.eventsync.jdbc.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.eventsync.PermanentException;
import io.eventsync.jdbc.TestEvents;
import io.eventsync.transport.OutboundEvent;
import io.eventsync.v1.Envelope;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WalWindowTest {
    private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);

    /** A transport whose sends the test completes by hand. */
    private final Map<String, CompletableFuture<Void>> pending = new HashMap<>();
    private final List<String> sent = new ArrayList<>();
    private final List<String> confirmed = new ArrayList<>();

    private CompletableFuture<Void> send(OutboundEvent e) {
        String name = e.envelope().getSubject() + "#" + e.envelope().getSequence();
        sent.add(name);
        return pending.computeIfAbsent(name, k -> new CompletableFuture<>());
    }

    private static OutboundEvent event(String subject, long sequence) {
        Envelope e = TestEvents.event("s", subject, sequence);
        return new OutboundEvent(e, e.toByteArray());
    }

    private void drain(WalWindow w) {
        w.drain(TIMEOUT, e -> confirmed.add(e.envelope().getSubject() + "#" + e.envelope().getSequence()));
    }

    @Test
    void theConfirmablePositionNeverPassesAnUnconfirmedEvent() {
        WalWindow w = new WalWindow(100);
        w.send(event("a", 1), 0, this::send, () -> {});
        w.send(event("b", 1), 0, this::send, () -> {});
        w.mark(200, 0); // end of the first transaction
        w.send(event("c", 1), 0, this::send, () -> {});
        w.mark(300, 0);
        pending.get("b#1").complete(null);
        pending.get("c#1").complete(null);
        drain(w);
        assertThat(w.confirmable()).isEqualTo(100);
        pending.get("a#1").complete(null);
        drain(w);
        assertThat(w.confirmable()).isEqualTo(300);
        assertThat(confirmed).containsExactly("a#1", "b#1", "c#1");
        assertThat(w.isEmpty()).isTrue();
        w.mark(250, 0); // positions only move forward
        assertThat(w.confirmable()).isEqualTo(300);
    }

    @Test
    void aKeysNextEventIsSentOnlyAfterThePreviousIsConfirmedAndNotAtAllIfItFailed() {
        WalWindow w = new WalWindow(0);
        w.send(event("k", 1), 0, this::send, () -> {});
        w.send(event("k", 2), 0, this::send, () -> {});
        w.send(event("other", 1), 0, this::send, () -> {});
        assertThat(sent).containsExactly("k#1", "other#1");
        pending.get("k#1").completeExceptionally(new IllegalStateException("broker down"));
        assertThat(sent).containsExactly("k#1", "other#1");
        assertThatThrownBy(() -> drain(w)).isInstanceOf(WalWindow.SendFailed.class).hasMessageContaining("broker down");
    }

    @Test
    void anEventTheTransportDoesNotConfirmInTimeFailsTheWindow() {
        WalWindow w = new WalWindow(0);
        w.send(event("slow", 1), 0, this::send, () -> {});
        assertThatThrownBy(() -> w.drain(0, e -> {})).isInstanceOf(WalWindow.SendFailed.class)
                .hasMessageContaining("did not confirm");
    }

    @Test
    void anEventRefusedForGoodGoesToTheRefusalsAndTheWindowAndItsKeyGoOnPastIt() {
        WalWindow w = new WalWindow(0);
        List<String> kept = new ArrayList<>();
        w.send(event("k", 1), 0, this::send, () -> {});
        w.send(event("k", 2), 0, this::send, () -> {});
        w.mark(100, 0);
        pending.get("k#1").completeExceptionally(new PermanentException("too large"));
        assertThat(sent).containsExactly("k#1", "k#2"); // the key's next event does not wait for a refused one
        pending.get("k#2").complete(null);
        w.drain(TIMEOUT, e -> confirmed.add(e.envelope().getSubject() + "#" + e.envelope().getSequence()),
                (e, why) -> kept.add(e.envelope().getSubject() + "#" + e.envelope().getSequence() + ": " + why.getMessage()));
        assertThat(kept).containsExactly("k#1: too large");
        assertThat(confirmed).containsExactly("k#2");
        assertThat(w.confirmable()).isEqualTo(100);
        assertThat(w.isEmpty()).isTrue();
    }

    @Test
    void whenARefusedEventCannotBeKeptTheWindowStaysBeforeIt() {
        WalWindow w = new WalWindow(0);
        w.send(event("k", 1), 0, this::send, () -> {});
        w.mark(100, 0);
        pending.get("k#1").completeExceptionally(new PermanentException("too large"));
        assertThatThrownBy(() -> w.drain(TIMEOUT, e -> {}, (e, why) -> {
            throw new IllegalStateException("database down");
        })).isInstanceOf(WalWindow.SendFailed.class).hasMessageContaining("too large").hasMessageContaining("database down");
        assertThat(w.confirmable()).isZero();
        // Without refusals (or for a transient failure) a refusal fails the window as before.
        assertThatThrownBy(() -> drain(w)).isInstanceOf(WalWindow.SendFailed.class);
    }
}
