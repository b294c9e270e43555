package io.eventsync.verify.internal;

import java.math.BigInteger;

/** The checksum of a set of rows: how many, and the exact sum of their 60-bit hashes. */
record Sum(long count, BigInteger hashes) {
    static final Sum EMPTY = new Sum(0, BigInteger.ZERO);
}
