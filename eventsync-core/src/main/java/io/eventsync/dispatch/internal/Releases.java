package io.eventsync.dispatch.internal;

import io.eventsync.dispatch.DeadLetter;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays and discards of FAILED dead letters, and the in-order release of the letters held behind
 * them. A release is an entry of its key's lane, so it runs in the key's order: events that arrive
 * while it runs wait behind it, and it re-applies letters through the same path as deliveries.
 */
final class Releases {
    private static final Logger log = LoggerFactory.getLogger(Releases.class);

    private final String subscription;
    private final Parking parking;
    private final Intake intake;
    private final BiFunction<Work, Lane.Runner, Step> apply;
    private final Function<String, Lane> laneOf;
    private final Set<Release> pending = ConcurrentHashMap.newKeySet();
    private final Set<String> resuming = ConcurrentHashMap.newKeySet();

    Releases(String subscription, Parking parking, Intake intake, BiFunction<Work, Lane.Runner, Step> apply,
             Function<String, Lane> laneOf) {
        this.subscription = subscription;
        this.parking = parking;
        this.intake = intake;
        this.apply = apply;
        this.laneOf = laneOf;
    }

    CompletableFuture<Boolean> request(String letterId, boolean replay) {
        DeadLetter letter = parking.store().get(letterId).orElseThrow(() -> new IllegalArgumentException(
                "no dead letter with id " + letterId));
        if (!letter.subscription().equals(subscription)) {
            throw new IllegalArgumentException("dead letter " + letterId + " belongs to subscription "
                    + letter.subscription() + ", not " + subscription);
        }
        if (letter.kind() == DeadLetter.Kind.HELD) {
            throw new IllegalStateException("dead letter " + letterId + " is HELD behind its key's FAILED letter; "
                    + (replay ? "replay" : "discard") + " that one and the held ones are released in order");
        }
        Release r = new Release(letter.key(), replay ? Release.Mode.REPLAY : Release.Mode.DISCARD, letterId);
        pending.add(r);
        r.result.whenComplete((released, error) -> pending.remove(r));
        laneOf.apply(r.key).enqueue(r);
        return r.result;
    }

    /**
     * Releases the HELD letters of {@code key} in order, as after a discard, when nothing FAILED is
     * ahead of them any more. At most one such release per key is queued at a time.
     */
    void resume(String key) {
        if (!resuming.add(key)) {
            return;
        }
        Release r = new Release(key, Release.Mode.RESUME, null);
        pending.add(r);
        r.result.whenComplete((released, error) -> {
            pending.remove(r);
            resuming.remove(key);
            if (error == null) {
                log.info("released the held dead letters of key {} on subscription {}, which waited behind no failed"
                        + " letter{}", key, subscription, Boolean.TRUE.equals(released) ? "" : " (one failed again)");
            }
        });
        laneOf.apply(key).enqueue(r);
    }

    /** One step of a release on its lane; keeps its state across retries of the letter being re-applied. */
    Step process(Release r, Lane.Runner runner) {
        while (true) {
            if (r.current == null) {
                DeadLetter next = r.started ? parking.nextHeld(r.key) : start(r);
                if (r.result.isDone()) {
                    return Step.DONE;
                }
                if (next == null) {
                    r.result.complete(!parking.parkedHint(r.key));
                    return Step.DONE;
                }
                r.current = intake.prepare(next.bytes(), DispatchEngine.REPLAY_PARTITION,
                        DispatchEngine.REPLAY_OFFSET, null, next);
            }
            Step step = apply.apply(r.current, runner);
            if (step.kind != Step.Kind.DONE) {
                return step;
            }
            boolean failedAgain = r.current.next.kind == Next.Kind.FAILED_AGAIN;
            r.current = null;
            if (failedAgain) {
                r.result.complete(false);
                return Step.DONE;
            }
        }
    }

    /** The first letter to re-apply: the target of a replay, or the first held one after a discard. */
    private DeadLetter start(Release r) {
        if (r.mode == Release.Mode.RESUME) {
            r.started = true;
            return parking.nextHeld(r.key);
        }
        DeadLetter target = parking.store().get(r.letterId).orElse(null);
        if (target == null) {
            r.result.complete(false); // replayed or discarded meanwhile
            return null;
        }
        if (r.mode == Release.Mode.REPLAY) {
            r.started = true;
            return target;
        }
        parking.store().remove(target.id());
        r.started = true;
        log.info("dead letter {} (event {}, subject {}) was discarded on subscription {}",
                target.id(), target.eventId(), target.key(), subscription);
        return parking.nextHeld(r.key);
    }

    void cancelAll() {
        for (Release r : pending) {
            r.result.completeExceptionally(new CancellationException("dispatcher of subscription "
                    + subscription + " closed before releasing " + (r.letterId == null
                    ? "the held dead letters of key " + r.key : "dead letter " + r.letterId)));
        }
    }
}
