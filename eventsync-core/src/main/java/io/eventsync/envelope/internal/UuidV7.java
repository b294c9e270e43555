package io.eventsync.envelope.internal;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * UUIDv7 (RFC 9562, section 5.7) with the 12-bit {@code rand_a} field used as a counter within the
 * millisecond (section 6.2, method 1), so ids made in this JVM are strictly increasing even when
 * many are made in one millisecond or the wall clock steps back.
 *
 * <p>Why an AtomicLong and not a lock: id generation sits on every producer's hot path; a CAS on one
 * word is contended only for the instant of the update. Uniqueness within the JVM follows from the
 * strictly increasing (millis, counter) word alone; the 62 random bits give uniqueness across JVMs,
 * drawn from a per-thread generator seeded by SecureRandom (seeding is the only slow part, once per thread).
 */
public final class UuidV7 {
    private static final long VERSION_7 = 0x7000L;
    private static final long VARIANT_10 = 0x8000_0000_0000_0000L;
    private static final long RAND_B_MASK = 0x3FFF_FFFF_FFFF_FFFFL;

    /** (unix millis << 12) | counter of the last id made; only ever grows. */
    private static final AtomicLong LAST = new AtomicLong();
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final ThreadLocal<SplittableRandom> RANDOM =
            ThreadLocal.withInitial(() -> new SplittableRandom(nextSeed()));

    private UuidV7() {}

    public static UUID next() {
        long now = System.currentTimeMillis() << 12;
        // Counter overflow (more than 4096 ids in one millisecond) carries into the time field: the
        // id's timestamp runs slightly ahead of the clock, which RFC 9562 allows to keep order.
        long stamp = LAST.updateAndGet(last -> Math.max(last + 1, now));
        long msb = ((stamp >>> 12) << 16) | VERSION_7 | (stamp & 0xFFFL);
        long lsb = VARIANT_10 | (RANDOM.get().nextLong() & RAND_B_MASK);
        return new UUID(msb, lsb);
    }

    private static long nextSeed() {
        synchronized (SEEDS) {
            return SEEDS.nextLong();
        }
    }
}
