package io.eventsync.dispatch.internal;

import com.google.protobuf.Message;
import io.eventsync.DecodeException;
import io.eventsync.PermanentException;
import io.eventsync.ValidationException;
import io.eventsync.dispatch.DeadLetter;
import io.eventsync.envelope.Heartbeats;
import io.eventsync.handler.DeadLetterPolicy;
import io.eventsync.handler.HandlerRegistry.Registration;
import io.eventsync.transport.Delivery;
import io.eventsync.v1.Envelope;

/**
 * Turns received bytes into {@link Work}: decode, find the handler, unpack and validate the payload.
 * Runs on the transport's thread (so decoding is parallel with the lanes) and never throws: a failure
 * is kept on the work and dead-lettered when the work's turn in its key's order comes.
 */
final class Intake {
    private final DispatchEngine.Settings s;

    Intake(DispatchEngine.Settings settings) {
        this.s = settings;
    }

    /**
     * A delivery: a record the transport already found malformed ({@link Delivery#defect()}) is not
     * decoded; it becomes one FAILED letter with the transport's reason, parking only the key the
     * transport itself carries. Bytes that do not decode park that key too, and nothing else.
     */
    Work prepare(Delivery delivery, AckTracker.Ticket ticket) {
        String defect = delivery.defect();
        String transportKey = delivery.transportKey() == null ? "" : delivery.transportKey();
        Work w;
        if (defect != null) {
            w = new Work(transportKey, delivery.bytes(), delivery.partition(), delivery.offset(), ticket, null);
            w.policy = transportKey.isEmpty() ? DeadLetterPolicy.SKIP : DeadLetterPolicy.PARK_KEY;
            w.next = Next.deadLetter(DeadLetterReason.MALFORMED, new DecodeException(defect));
        } else {
            w = prepare(delivery.bytes(), delivery.partition(), delivery.offset(), ticket, null);
            if (w.envelope == null && !transportKey.isEmpty()) {
                w = rekeyed(w, transportKey);
            }
        }
        w.origin = delivery.origin() == null ? "" : delivery.origin();
        return w;
    }

    /** An undecodable record whose transport carries a key: that key is the one it parks. */
    private static Work rekeyed(Work undecodable, String key) {
        Work w = new Work(key, undecodable.bytes, undecodable.partition, undecodable.offset, undecodable.ticket, null);
        w.policy = DeadLetterPolicy.PARK_KEY;
        w.next = undecodable.next;
        return w;
    }

    /** Decodes, finds the handler, unpacks and validates; failures are kept to be dead-lettered in key order. */
    Work prepare(byte[] bytes, String partition, long offset, AckTracker.Ticket ticket, DeadLetter letter) {
        Envelope envelope = null;
        Throwable decodeFailure = null;
        try {
            envelope = s.codec().decode(bytes);
        } catch (DecodeException e) {
            decodeFailure = e;
        } catch (RuntimeException e) {
            decodeFailure = new DecodeException("the codec failed on " + bytes.length + " bytes: " + e, e);
        }
        String key = letter != null ? letter.key() : envelope == null ? "" : keyOf(envelope);
        Work w = new Work(key, bytes, partition, offset, ticket, letter);
        w.envelope = envelope;
        if (decodeFailure != null) {
            w.policy = letter != null && letter.parksKey() ? DeadLetterPolicy.PARK_KEY : DeadLetterPolicy.SKIP;
            w.next = Next.deadLetter(DeadLetterReason.UNDECODABLE, decodeFailure);
            return w;
        }
        if (letter == null && Heartbeats.isHeartbeat(envelope)) {
            // Before any handler lookup: a heartbeat needs none, and is never dead-lettered.
            w.isHeartbeat = true;
            w.heartbeat = Heartbeats.read(envelope).orElse(null);
            return w;
        }
        Registration registration = s.handlers().find(envelope.getType()).orElse(null);
        if (registration == null) {
            w.policy = s.unknownTypeDeadLetterPolicy();
            if (s.skipUnknownTypes()) {
                w.next = Next.SKIP;
            } else {
                w.next = Next.deadLetter(DeadLetterReason.UNKNOWN_TYPE, new PermanentException("no handler for"
                        + " payload type '" + envelope.getType() + "' on subscription " + s.subscription()
                        + "; register one, or set unknownTypePolicy(SKIP) to ignore such events"));
            }
            return w;
        }
        w.registration = registration;
        w.policy = registration.options().deadLetterPolicy();
        try {
            Message payload = s.types().unpack(envelope);
            s.validator().validate(envelope, payload);
            w.payload = payload;
        } catch (ValidationException | DecodeException e) {
            w.next = Next.deadLetter(DeadLetterReason.of(e), e);
        } catch (RuntimeException e) {
            w.next = Next.deadLetter(DeadLetterReason.INVALID, new PermanentException("unpacking or validating the"
                    + " payload of event " + envelope.getId() + " failed unexpectedly: " + e, e));
        }
        return w;
    }

    static String keyOf(Envelope envelope) {
        String key = envelope.getPartitionKey();
        return key.isEmpty() ? envelope.getSubject() : key;
    }

}
